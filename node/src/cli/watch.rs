//! `capstan get --watch`: print the current state, then one row (or object) per change.

use super::get::{fetch_list, fetch_named, list_items, Job};
use super::output::{self, Format, TablePrinter};
use super::util::{out, outln, str_at, with_query, Reported, VerbResult};
use capstan_core::kinds::ResourceKind;
use serde_json::Value;

/// `get KIND --watch`: the current list, then every change.
pub(super) fn watch_list(job: &Job) -> VerbResult {
    let body = fetch_list(job)?;
    let rv = str_at(&body, "/metadata/resourceVersion").to_string();
    let mut printer = Printer::new(job);
    if job.format.is_table() {
        out(&printer.table.print(&body));
    } else {
        for item in list_items(body) {
            printer.object(output::with_type(job.resource, item))?;
        }
    }
    watch_events(
        job,
        &job.list_path(&[("watch", "true"), ("resourceVersion", &rv)]),
        printer,
    )
}

/// `get KIND NAME --watch`: the object, then its changes.
pub(super) fn watch_named(job: &Job) -> VerbResult {
    let fetched = fetch_named(job);
    if let Some(e) = fetched.errors.first() {
        eprintln!("{e}");
        return Err(Reported.into());
    }
    let Some(obj) = fetched.found.first() else {
        return Ok(());
    };
    let mut printer = Printer::new(job);
    let rv = str_at(obj, "/metadata/resourceVersion").to_string();
    if job.format.is_table() {
        out(&printer.table.print(obj));
    } else {
        printer.object(output::with_type(job.resource, obj.clone()))?;
    }
    let name = job.names.first().cloned().unwrap_or_default();
    let field = format!("metadata.name={name}");
    let path = with_query(
        &job.resource.collection_path(job.namespace.as_deref()),
        &[
            ("fieldSelector", &field),
            ("watch", "true"),
            ("resourceVersion", &rv),
        ],
    );
    watch_events(job, &path, printer)
}

/// Prints what a watch sees in the chosen format.
struct Printer {
    resource: &'static ResourceKind,
    format: Format,
    table: TablePrinter,
    objects: usize,
}

impl Printer {
    fn new(job: &Job) -> Printer {
        Printer {
            resource: job.resource,
            format: job.format,
            table: TablePrinter::new(job.opts.clone()),
            objects: 0,
        }
    }

    /// One object as YAML (separated by `---`) or JSON, or its name.
    fn object(&mut self, obj: Value) -> anyhow::Result<()> {
        match self.format {
            Format::Name => outln(&output::name_line(self.resource, &obj)),
            Format::Yaml => {
                if self.objects > 0 {
                    out("---\n");
                }
                out(&output::to_yaml(&obj)?);
            }
            _ => out(&output::render_object(&obj, self.format)?),
        }
        self.objects += 1;
        Ok(())
    }
}

/// Follows a watch until it ends; an ERROR event is reported and fails the verb.
fn watch_events(job: &Job, path: &str, mut printer: Printer) -> VerbResult {
    let mut error: Option<String> = None;
    let mut print_error: Option<anyhow::Error> = None;
    job.client.watch(path, job.accept(), |event| {
        let kind = event
            .get("type")
            .and_then(Value::as_str)
            .unwrap_or_default();
        let Some(obj) = event.get("object").cloned() else {
            return true;
        };
        match kind {
            "ERROR" => {
                let reason = obj
                    .get("reason")
                    .and_then(Value::as_str)
                    .unwrap_or("Unknown");
                let msg = obj
                    .get("message")
                    .and_then(Value::as_str)
                    .unwrap_or("the watch failed");
                error = Some(format!("Error from server ({reason}): {msg}"));
                false
            }
            "BOOKMARK" => true,
            _ if printer.format.is_table() => {
                out(&printer.table.print(&obj));
                true
            }
            _ => match printer.object(output::with_type(job.resource, obj)) {
                Ok(()) => true,
                Err(e) => {
                    print_error = Some(e);
                    false
                }
            },
        }
    })?;
    if let Some(e) = print_error {
        return Err(e);
    }
    match error {
        Some(msg) => {
            eprintln!("{msg}");
            Err(Reported.into())
        }
        None => Ok(()),
    }
}
