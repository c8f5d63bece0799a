//! Strategic merge patch, after `k8s.io/apimachinery/pkg/util/strategicpatch` (`mergeMap`,
//! `mergeSlice`, `normalizeElementOrder`, with the server's `MergeParallelList` and
//! `IgnoreUnmatchedNulls` options).
//!
//! Differences from apimachinery, all in the direction of a cleaner result:
//! - a patch value for a key the original lacks (or holds with another JSON type) is merged into
//!   nothing rather than copied verbatim, so directives and `null`s inside it are processed
//!   instead of leaking into the stored object;
//! - `$patch: delete` on a nested map removes the key (apimachinery leaves `{}`, which decodes
//!   to the same typed object); at the top level the result is `{}`;
//! - `$patch: merge` is accepted (and ignored) in maps and list elements, where apimachinery
//!   rejects it;
//! - `$deleteFromPrimitiveList/<field>` is applied after the map's other fields are merged, so
//!   the result does not depend on key order.

use serde_json::{Map, Value};

use super::merge_keys::{list_strategy, ListStrategy};
use super::PatchError;

/// `$patch`: replace / delete / merge.
const DIRECTIVE: &str = "$patch";
/// `$retainKeys`: the keys a map keeps.
const RETAIN_KEYS: &str = "$retainKeys";
/// `$setElementOrder/<field>`: the order of a merged list.
const SET_ELEMENT_ORDER: &str = "$setElementOrder/";
/// `$deleteFromPrimitiveList/<field>`: values removed from a merged list of primitives.
const DELETE_FROM_PRIMITIVE_LIST: &str = "$deleteFromPrimitiveList/";

/// Applies a strategic merge patch to `original`, an object of `kind`.
pub(crate) fn strategic_merge(
    original: &Value,
    patch: &Value,
    kind: &str,
) -> Result<Value, PatchError> {
    let Value::Object(patch) = patch else {
        return Err(PatchError::NotAnObject);
    };
    let original = match original {
        Value::Object(map) => map.clone(),
        _ => Map::new(),
    };
    let mut merger = Merger {
        kind,
        path: Vec::new(),
    };
    let merged = merger.merge_map(original, patch)?;
    Ok(Value::Object(merged.unwrap_or_default()))
}

/// Walks original and patch together, tracking the map-key path for list strategy lookups.
struct Merger<'k> {
    kind: &'k str,
    path: Vec<String>,
}

impl Merger<'_> {
    fn path_string(&self) -> String {
        self.path.join(".")
    }

    /// Runs `f` with `key` appended to the path.
    fn with_field<T>(&mut self, key: &str, f: impl FnOnce(&mut Self) -> T) -> T {
        self.path.push(key.to_string());
        let result = f(self);
        self.path.pop();
        result
    }

    fn unsupported_directive(&self, value: &Value) -> PatchError {
        PatchError::UnsupportedPatchDirective {
            directive: value
                .as_str()
                .map_or_else(|| value.to_string(), str::to_string),
            path: self.path_string(),
        }
    }

    fn invalid_directive(&self, directive: &str, reason: &str) -> PatchError {
        PatchError::InvalidDirective {
            directive: directive.to_string(),
            path: self.path_string(),
            reason: reason.to_string(),
        }
    }

    /// Merges `patch` into `original` (`None` for an absent original). `Ok(None)` means the value
    /// is removed (`null`, or a map with `$patch: delete`).
    fn merge_value(
        &mut self,
        original: Option<Value>,
        patch: &Value,
    ) -> Result<Option<Value>, PatchError> {
        match patch {
            Value::Null => Ok(None),
            Value::Object(patch) => {
                let original = match original {
                    Some(Value::Object(map)) => map,
                    _ => Map::new(),
                };
                Ok(self.merge_map(original, patch)?.map(Value::Object))
            }
            Value::Array(patch) => {
                let original = match original {
                    Some(Value::Array(list)) => list,
                    _ => Vec::new(),
                };
                Ok(Some(Value::Array(self.merge_list(original, patch)?)))
            }
            scalar => Ok(Some(scalar.clone())),
        }
    }

    /// Merges a patch map into an original map. `Ok(None)` means `$patch: delete`.
    fn merge_map(
        &mut self,
        mut original: Map<String, Value>,
        patch: &Map<String, Value>,
    ) -> Result<Option<Map<String, Value>>, PatchError> {
        if let Some(directive) = patch.get(DIRECTIVE) {
            let mut rest = patch.clone();
            rest.remove(DIRECTIVE);
            return match directive.as_str() {
                Some("replace") => Ok(Some(self.merge_map(Map::new(), &rest)?.unwrap_or_default())),
                Some("delete") => Ok(None),
                Some("merge") => self.merge_map(original, &rest),
                _ => Err(self.unsupported_directive(directive)),
            };
        }

        let mut retain_keys = None;
        let mut orders = Vec::new();
        let mut deletions = Vec::new();
        for (key, value) in patch {
            if !key.starts_with('$') {
                continue;
            }
            if key == RETAIN_KEYS {
                retain_keys = Some(value);
            } else if let Some(field) = key.strip_prefix(SET_ELEMENT_ORDER) {
                if field.is_empty() {
                    return Err(self.invalid_directive(key, "the field name is missing"));
                }
                orders.push((key.as_str(), field, value));
            } else if let Some(field) = key.strip_prefix(DELETE_FROM_PRIMITIVE_LIST) {
                if field.is_empty() {
                    return Err(self.invalid_directive(key, "the field name is missing"));
                }
                deletions.push((key.as_str(), field, value));
            } else {
                return Err(PatchError::UnknownDirective {
                    key: key.clone(),
                    path: self.path_string(),
                });
            }
        }

        if let Some(retain_keys) = retain_keys {
            self.apply_retain_keys(&mut original, patch, retain_keys)?;
        }

        let mut ordered = Vec::new();
        for (directive, field, order) in orders {
            let Value::Array(order) = order else {
                return Err(self.invalid_directive(directive, "must be a list"));
            };
            let patch_list = match patch.get(field) {
                None => None,
                // The field is being deleted; ordering it is moot.
                Some(Value::Null) => continue,
                Some(Value::Array(list)) => Some(list.as_slice()),
                Some(_) => {
                    return Err(self.invalid_directive(
                        directive,
                        &format!("the patch's {field:?} is not a list"),
                    ))
                }
            };
            let original_list = match original.get_mut(field) {
                Some(Value::Array(list)) => Some(std::mem::take(list)),
                _ => None,
            };
            if original_list.is_none() && patch_list.is_none() {
                continue;
            }
            let list = self.with_field(field, |m| {
                m.ordered_list(original_list.unwrap_or_default(), patch_list, order)
            })?;
            original.insert(field.to_string(), Value::Array(list));
            ordered.push(field);
        }

        for (key, patch_value) in patch {
            if key.starts_with('$') || ordered.contains(&key.as_str()) {
                continue;
            }
            let original_value = original.get_mut(key).map(std::mem::take);
            match self.with_field(key, |m| m.merge_value(original_value, patch_value))? {
                Some(value) => {
                    original.insert(key.clone(), value);
                }
                None => {
                    original.remove(key);
                }
            }
        }

        for (directive, field, values) in deletions {
            let Value::Array(values) = values else {
                return Err(self.invalid_directive(directive, "must be a list"));
            };
            if let Some(Value::Array(list)) = original.get_mut(field) {
                list.retain(|item| !values.iter().any(|v| json_eq(item, v)));
            }
        }

        Ok(Some(original))
    }

    /// `$retainKeys`: every field the patch sets must be listed; fields of the original that are
    /// not listed are dropped.
    fn apply_retain_keys(
        &self,
        original: &mut Map<String, Value>,
        patch: &Map<String, Value>,
        retain_keys: &Value,
    ) -> Result<(), PatchError> {
        let keys = retain_keys
            .as_array()
            .and_then(|list| list.iter().map(Value::as_str).collect::<Option<Vec<_>>>())
            .ok_or_else(|| self.invalid_directive(RETAIN_KEYS, "must be a list of field names"))?;
        if let Some((key, _)) = patch
            .iter()
            .find(|(k, v)| !k.starts_with('$') && !v.is_null() && !keys.contains(&k.as_str()))
        {
            return Err(PatchError::RetainKeysViolation {
                key: key.clone(),
                path: self.path_string(),
            });
        }
        original.retain(|k, _| keys.contains(&k.as_str()));
        Ok(())
    }

    /// A list with a `$setElementOrder` directive: merge as usual, then order the items the
    /// directive names by it, interleaving the others by their original order.
    fn ordered_list(
        &mut self,
        original: Vec<Value>,
        patch: Option<&[Value]>,
        order: &[Value],
    ) -> Result<Vec<Value>, PatchError> {
        let strategy = list_strategy(self.kind, &self.path);
        let key = match strategy {
            // An atomic list is whatever the patch says; nothing to order.
            ListStrategy::Replace => {
                return match patch {
                    Some(patch) => self.merge_list(original, patch),
                    None => Ok(original),
                };
            }
            ListStrategy::MergeByKey(key) => Some(key),
            ListStrategy::MergePrimitives => None,
        };
        let merged = match patch {
            Some(patch) => {
                self.validate_order(patch, order, key)?;
                self.merge_list(original.clone(), patch)?
            }
            None => original.clone(),
        };
        let (named, others) = partition(merged, order, key);
        Ok(normalize_element_order(
            named, others, order, &original, key,
        ))
    }

    /// The non-directive items of the patch list must appear in the order list, in its order.
    fn validate_order(
        &self,
        patch: &[Value],
        order: &[Value],
        key: Option<&str>,
    ) -> Result<(), PatchError> {
        let items: Vec<&Value> = patch
            .iter()
            .filter(|item| !item.as_object().is_some_and(|m| m.contains_key(DIRECTIVE)))
            .collect();
        if items.is_empty() || order.is_empty() {
            return Ok(());
        }
        let mut matched = 0;
        for wanted in order {
            if matched == items.len() {
                break;
            }
            if same_identity(items[matched], wanted, key) {
                matched += 1;
            }
        }
        if matched < items.len() {
            return Err(PatchError::ElementOrderMismatch {
                path: self.path_string(),
            });
        }
        Ok(())
    }

    /// Merges a patch list into an original list according to the field's strategy.
    fn merge_list(
        &mut self,
        original: Vec<Value>,
        patch: &[Value],
    ) -> Result<Vec<Value>, PatchError> {
        match list_strategy(self.kind, &self.path) {
            ListStrategy::Replace => self.replace_list(patch),
            ListStrategy::MergePrimitives => self.merge_primitives(original, patch),
            ListStrategy::MergeByKey(key) => self.merge_by_key(original, patch, key),
        }
    }

    /// An atomic list: the patch's elements, with directive-only elements dropped and nested
    /// directives processed.
    fn replace_list(&mut self, patch: &[Value]) -> Result<Vec<Value>, PatchError> {
        let mut out = Vec::with_capacity(patch.len());
        for item in patch {
            match item {
                Value::Object(map) if map.len() == 1 && map.contains_key(DIRECTIVE) => {
                    let directive = &map[DIRECTIVE];
                    if !matches!(directive.as_str(), Some("replace" | "delete" | "merge")) {
                        return Err(self.unsupported_directive(directive));
                    }
                }
                Value::Object(_) | Value::Array(_) => {
                    if let Some(value) = self.merge_value(None, item)? {
                        out.push(value);
                    }
                }
                scalar => out.push(scalar.clone()),
            }
        }
        Ok(out)
    }

    /// A list of primitives with strategy merge: the union, ordered like apimachinery.
    fn merge_primitives(
        &self,
        original: Vec<Value>,
        patch: &[Value],
    ) -> Result<Vec<Value>, PatchError> {
        if let Some(bad) = patch.iter().find(|v| v.is_object() || v.is_array()) {
            return Err(PatchError::InvalidList {
                path: self.path_string(),
                reason: format!("expected primitive values, found {bad}"),
            });
        }
        let mut merged: Vec<Value> = Vec::with_capacity(original.len() + patch.len());
        for item in original.iter().chain(patch) {
            if !merged.iter().any(|m| json_eq(m, item)) {
                merged.push(item.clone());
            }
        }
        let (in_patch, server_only) = partition(merged, patch, None);
        Ok(normalize_element_order(
            in_patch,
            server_only,
            patch,
            &original,
            None,
        ))
    }

    /// A list of objects merged by `key`, honouring `$patch: delete` / `$patch: replace`
    /// elements.
    fn merge_by_key(
        &mut self,
        mut original: Vec<Value>,
        patch: &[Value],
        key: &str,
    ) -> Result<Vec<Value>, PatchError> {
        let missing_key = |m: &Self| PatchError::MissingMergeKey {
            path: m.path_string(),
            key: key.to_string(),
        };
        let mut regular = Vec::with_capacity(patch.len());
        let mut replace = false;
        for item in patch {
            let Value::Object(map) = item else {
                return Err(PatchError::InvalidList {
                    path: self.path_string(),
                    reason: format!("expected objects merged by {key:?}, found {item}"),
                });
            };
            match map.get(DIRECTIVE) {
                None => regular.push(map),
                Some(directive) => match directive.as_str() {
                    Some("delete") => {
                        let value = map.get(key).ok_or_else(|| missing_key(self))?;
                        original.retain(|o| !has_key_value(o, key, value));
                    }
                    Some("replace") => replace = true,
                    // Merging is the default; merge_map strips the directive.
                    Some("merge") => regular.push(map),
                    _ => return Err(self.unsupported_directive(directive)),
                },
            }
        }

        if replace {
            let mut out = Vec::with_capacity(regular.len());
            for map in regular {
                if let Some(merged) = self.merge_map(Map::new(), map)? {
                    out.push(Value::Object(merged));
                }
            }
            return Ok(out);
        }

        let server_order = original.clone();
        let mut merged = original;
        for map in regular {
            let value = map.get(key).ok_or_else(|| missing_key(self))?;
            match merged.iter().position(|o| has_key_value(o, key, value)) {
                Some(index) => {
                    let Value::Object(existing) = std::mem::take(&mut merged[index]) else {
                        continue; // has_key_value only matches objects
                    };
                    match self.merge_map(existing, map)? {
                        Some(result) => merged[index] = Value::Object(result),
                        None => {
                            merged.remove(index);
                        }
                    }
                }
                None => {
                    if let Some(result) = self.merge_map(Map::new(), map)? {
                        merged.push(Value::Object(result));
                    }
                }
            }
        }
        let (in_patch, server_only) = partition(merged, patch, Some(key));
        Ok(normalize_element_order(
            in_patch,
            server_only,
            patch,
            &server_order,
            Some(key),
        ))
    }
}

/// JSON equality where numbers compare by value (`80` equals `80.0`), like Go's `==` on decoded
/// JSON.
fn json_eq(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => x == y || x.as_f64() == y.as_f64(),
        _ => a == b,
    }
}

/// Whether `item` is an object whose `key` equals `value`.
fn has_key_value(item: &Value, key: &str, value: &Value) -> bool {
    item.as_object()
        .and_then(|m| m.get(key))
        .is_some_and(|v| json_eq(v, value))
}

/// What identifies a list item: its merge key's value, or the item itself for primitives.
fn identity<'v>(item: &'v Value, key: Option<&str>) -> Option<&'v Value> {
    match key {
        Some(key) => item.as_object()?.get(key),
        None => Some(item),
    }
}

fn same_identity(a: &Value, b: &Value, key: Option<&str>) -> bool {
    match (identity(a, key), identity(b, key)) {
        (Some(a), Some(b)) => json_eq(a, b),
        _ => false,
    }
}

/// Position of `item` (by identity) in `list`.
fn index_in(list: &[Value], item: &Value, key: Option<&str>) -> Option<usize> {
    let id = identity(item, key)?;
    list.iter()
        .position(|other| identity(other, key).is_some_and(|o| json_eq(o, id)))
}

/// Splits `items` into those present (by identity) in `by` and the others, keeping order.
fn partition(items: Vec<Value>, by: &[Value], key: Option<&str>) -> (Vec<Value>, Vec<Value>) {
    items
        .into_iter()
        .partition(|item| index_in(by, item, key).is_some())
}

/// apimachinery's `normalizeElementOrder`: sorts `patch_items` by `patch_order` and
/// `server_only` by `server_order`, then interleaves them: a server-only item goes first only if
/// both it and the next patch item are in `server_order` and it comes earlier there. Patch
/// items that are new to the list therefore go before the remaining server-only items.
fn normalize_element_order(
    mut patch_items: Vec<Value>,
    mut server_only: Vec<Value>,
    patch_order: &[Value],
    server_order: &[Value],
    key: Option<&str>,
) -> Vec<Value> {
    patch_items.sort_by_key(|item| index_in(patch_order, item, key).unwrap_or(usize::MAX));
    server_only.sort_by_key(|item| index_in(server_order, item, key).unwrap_or(usize::MAX));

    let mut out = Vec::with_capacity(patch_items.len() + server_only.len());
    let mut left = server_only.into_iter().peekable();
    let mut right = patch_items.into_iter().peekable();
    loop {
        let take_left = match (left.peek(), right.peek()) {
            (Some(l), Some(r)) => matches!(
                (index_in(server_order, l, key), index_in(server_order, r, key)),
                (Some(li), Some(ri)) if li < ri
            ),
            (Some(_), None) => true,
            (None, Some(_)) => false,
            (None, None) => break,
        };
        let next = if take_left { left.next() } else { right.next() };
        out.extend(next);
    }
    out
}
