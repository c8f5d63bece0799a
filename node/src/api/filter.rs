//! Which objects a list or watch returns: namespace, label selector and field selector.

use super::errors::ApiError;
use super::request::Query;
use super::target::Target;
use super::ApiState;
use actix_web::web;
use capstan_core::fields::{field_value, FieldSelector};
use capstan_core::selector::Selector;
use serde_json::Value;
use std::collections::BTreeMap;

/// A list/watch filter.
pub struct ObjectFilter {
    /// Only objects in this namespace (None: all).
    pub namespace: Option<String>,
    /// `?labelSelector=`
    pub labels: Selector,
    /// `?fieldSelector=`
    pub fields: FieldSelector,
}

fn labels_of(obj: &Value) -> BTreeMap<String, String> {
    obj.pointer("/metadata/labels")
        .and_then(Value::as_object)
        .map(|m| {
            m.iter()
                .map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_string()))
                .collect()
        })
        .unwrap_or_default()
}

impl ObjectFilter {
    /// The filter a request asks for: the path's namespace and the query's selectors.
    pub fn for_request(t: &Target, q: &Query) -> Result<ObjectFilter, ApiError> {
        let (labels, fields) = q.selectors(t.resource)?;
        Ok(ObjectFilter {
            namespace: t.namespace.clone(),
            labels,
            fields,
        })
    }

    /// The objects of the target's resource that pass, read off the request thread, and the
    /// revision the list is consistent at.
    pub async fn list(&self, state: &ApiState, t: &Target) -> Result<(Vec<Value>, u64), ApiError> {
        let db = state.store.db.clone();
        let (resource, ns) = (t.resource, t.namespace.clone());
        let (items, rev) = web::block(move || db.list(resource, ns.as_deref()))
            .await
            .map_err(|e| ApiError::internal(e.to_string()))??;
        Ok((items.into_iter().filter(|o| self.matches(o)).collect(), rev))
    }

    /// Whether `obj` passes.
    pub fn matches(&self, obj: &Value) -> bool {
        if let Some(ns) = &self.namespace {
            if obj
                .pointer("/metadata/namespace")
                .and_then(Value::as_str)
                .unwrap_or_default()
                != ns
            {
                return false;
            }
        }
        if !self.labels.is_everything() && !self.labels.matches(&labels_of(obj)) {
            return false;
        }
        self.fields.is_everything() || self.fields.matches(|f| field_value(obj, f))
    }
}
