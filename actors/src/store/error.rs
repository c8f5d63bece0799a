//! Errors of the store. `Unavailable` and `Storage` are retryable; the rest are final answers
//! about the request.

/// Why a store operation failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StoreError {
    /// No object under that name (`pods "x" not found`).
    #[error("{resource} \"{name}\" not found")]
    NotFound {
        /// `pods`, `deployments.apps`
        resource: String,
        /// The object's name.
        name: String,
    },
    /// Create of a name that exists.
    #[error("{resource} \"{name}\" already exists")]
    AlreadyExists {
        /// `pods`, `deployments.apps`
        resource: String,
        /// The object's name.
        name: String,
    },
    /// A precondition (resourceVersion or uid) did not hold.
    #[error("Operation cannot be fulfilled on {resource} \"{name}\": {reason}")]
    Conflict {
        /// `pods`, `deployments.apps`
        resource: String,
        /// The object's name.
        name: String,
        /// What did not match.
        reason: String,
    },
    /// A watch asked for a revision older than the retained history.
    #[error("too old resource version: {requested} ({oldest})")]
    Gone {
        /// The revision asked for.
        requested: u64,
        /// The oldest revision still replayable.
        oldest: u64,
    },
    /// The object's namespace does not exist or is being deleted.
    #[error("namespaces \"{0}\" not found")]
    NamespaceNotFound(String),
    /// The request itself is malformed (no name, not an object).
    #[error("{0}")]
    BadRequest(String),
    /// The database failed; the write was not committed (retryable).
    #[error("storage error: {0}")]
    Storage(String),
    /// The store actor is gone (shutting down); retryable against a new master.
    #[error("the store is unavailable")]
    Unavailable,
}

impl StoreError {
    /// Whether retrying the same request later may succeed.
    pub fn is_retryable(&self) -> bool {
        matches!(self, StoreError::Storage(_) | StoreError::Unavailable)
    }
}

macro_rules! storage_from {
    ($($t:ty),*) => {$(
        impl From<$t> for StoreError {
            fn from(e: $t) -> Self {
                StoreError::Storage(e.to_string())
            }
        }
    )*};
}
storage_from!(
    redb::Error,
    redb::DatabaseError,
    redb::TransactionError,
    redb::TableError,
    redb::StorageError,
    redb::CommitError,
    serde_json::Error
);
