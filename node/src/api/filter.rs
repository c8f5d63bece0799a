//! Which objects a list or watch returns: namespace, label selector and field selector.

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
