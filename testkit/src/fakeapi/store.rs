//! The in-memory object store: objects per resource, a global resourceVersion,
//! and a bounded event history that watches replay from.

use std::collections::{BTreeMap, BTreeSet, HashMap, VecDeque};
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use serde_json::{Map, Value};

use super::resources::{self, ResourceDef};
use super::status::ApiError;

/// Watch event types.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventType {
    Added,
    Modified,
    Deleted,
}

/// One change, kept in the history so watches can replay from a resourceVersion.
#[derive(Debug, Clone)]
pub struct Event {
    pub rv: u64,
    pub res: usize,
    pub kind: EventType,
    pub obj: Arc<Value>,
    /// The object before a MODIFIED (lets selector watches turn it into ADDED/DELETED).
    pub prev: Option<Arc<Value>>,
}

/// A `deny` rule: `verb` on `group`/`resource` (optionally `plural/sub`) in `namespace`
/// (`None` = everywhere). `"*"` matches any verb / resource.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DenyRule {
    pub verb: String,
    pub group: String,
    pub resource: String,
    pub namespace: Option<String>,
}

/// Key of one object inside a resource: (namespace or "", name).
pub type Key = (String, String);

/// Default number of events kept for watch replay.
pub const DEFAULT_HISTORY: usize = 100_000;

pub struct State {
    pub resources: Vec<ResourceDef>,
    pub removed_groups: BTreeSet<String>,
    pub objects: Vec<BTreeMap<Key, Arc<Value>>>,
    pub rv: u64,
    pub history: VecDeque<Event>,
    pub history_limit: usize,
    /// Watches from a resourceVersion below this get 410 Expired.
    pub compacted: u64,
    pub deny: Vec<DenyRule>,
    pub logs: HashMap<Key, String>,
    uid_seed: u64,
    uid_counter: u64,
}

fn splitmix(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    x ^ (x >> 31)
}

/// RFC 3339 UTC timestamp with second precision, like `metav1.Time`.
pub fn rfc3339(t: SystemTime) -> String {
    let secs = t
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    let (days, rem) = (secs / 86_400, secs % 86_400);
    // Civil-from-days (Howard Hinnant's algorithm).
    let z = days as i64 + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

pub fn meta_str<'a>(obj: &'a Value, field: &str) -> Option<&'a str> {
    obj.get("metadata")?.get(field)?.as_str()
}

fn meta_mut(obj: &mut Value) -> Result<&mut Map<String, Value>, String> {
    let map = obj.as_object_mut().ok_or("object is not a JSON object")?;
    let meta = map
        .entry("metadata")
        .or_insert_with(|| Value::Object(Map::new()));
    if meta.is_null() {
        *meta = Value::Object(Map::new());
    }
    meta.as_object_mut()
        .ok_or_else(|| "metadata is not an object".to_string())
}

impl Default for State {
    fn default() -> Self {
        Self::new()
    }
}

impl State {
    pub fn new() -> Self {
        let resources = resources::builtin();
        let objects = resources.iter().map(|_| BTreeMap::new()).collect();
        let seed = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_nanos() as u64)
            .unwrap_or(1)
            ^ u64::from(std::process::id());
        State {
            resources,
            removed_groups: BTreeSet::new(),
            objects,
            rv: 0,
            history: VecDeque::new(),
            history_limit: DEFAULT_HISTORY,
            compacted: 0,
            deny: Vec::new(),
            logs: HashMap::new(),
            uid_seed: seed,
            uid_counter: 0,
        }
    }

    pub fn new_uid(&mut self) -> String {
        self.uid_counter += 1;
        let a = splitmix(self.uid_seed ^ self.uid_counter);
        let b = splitmix(a ^ 0x5555);
        format!(
            "{:08x}-{:04x}-4{:03x}-{:04x}-{:012x}",
            a >> 32,
            (a >> 16) & 0xffff,
            a & 0xfff,
            0x8000 | ((b >> 48) & 0x3fff),
            b & 0xffff_ffff_ffff
        )
    }

    pub fn group_served(&self, group: &str) -> bool {
        !self.removed_groups.contains(group)
    }

    /// Index of a served resource by group/version/plural.
    pub fn find_plural(&self, group: &str, version: &str, plural: &str) -> Option<usize> {
        if !self.group_served(group) {
            return None;
        }
        self.resources
            .iter()
            .position(|r| r.group == group && r.version == version && r.plural == plural)
    }

    /// Index of a resource by apiVersion + kind (whether or not its group is served).
    pub fn find_kind(&self, api_version: &str, kind: &str) -> Option<usize> {
        let (group, version) = api_version.rsplit_once('/').unwrap_or(("", api_version));
        self.resources
            .iter()
            .position(|r| r.group == group && r.version == version && r.kind == kind)
    }

    pub fn add_resource(&mut self, def: ResourceDef) -> usize {
        if let Some(i) = self.resources.iter().position(|r| {
            r.group == def.group && r.version == def.version && r.plural == def.plural
        }) {
            self.resources[i] = def;
            return i;
        }
        self.resources.push(def);
        self.objects.push(BTreeMap::new());
        self.resources.len() - 1
    }

    fn record(&mut self, res: usize, kind: EventType, obj: Arc<Value>, prev: Option<Arc<Value>>) {
        self.history.push_back(Event {
            rv: self.rv,
            res,
            kind,
            obj,
            prev,
        });
        while self.history.len() > self.history_limit {
            if let Some(e) = self.history.pop_front() {
                self.compacted = e.rv;
            }
        }
    }

    /// Forget all history: watches from any resourceVersion older than now get 410.
    pub fn compact(&mut self) {
        self.history.clear();
        self.compacted = self.rv;
    }

    fn next_rv(&mut self) -> u64 {
        self.rv += 1;
        self.rv
    }

    /// Events with rv > `after`, or `None` if `after` is older than the retained history.
    pub fn events_after(&self, after: u64) -> Option<impl Iterator<Item = &Event>> {
        if after < self.compacted {
            return None;
        }
        let start = self.history.partition_point(|e| e.rv <= after);
        Some(self.history.range(start..))
    }

    pub fn get(&self, res: usize, ns: &str, name: &str) -> Result<Arc<Value>, ApiError> {
        self.objects[res]
            .get(&(ns.to_string(), name.to_string()))
            .cloned()
            .ok_or_else(|| ApiError::not_found(&self.resources[res], name))
    }

    /// Objects of `res` (in `ns`, or everywhere when `None`), in (namespace, name) order.
    pub fn scan<'a>(
        &'a self,
        res: usize,
        ns: Option<&'a str>,
    ) -> Box<dyn Iterator<Item = (&'a Key, &'a Arc<Value>)> + 'a> {
        let map = &self.objects[res];
        match ns {
            Some(ns) if self.resources[res].namespaced => {
                let lo = (ns.to_string(), String::new());
                Box::new(map.range(lo..).take_while(move |(k, _)| k.0 == ns))
            }
            _ => Box::new(map.iter()),
        }
    }

    /// Creates an object. `path_ns` is the namespace from the URL (None for cluster paths).
    pub fn create(
        &mut self,
        res: usize,
        path_ns: Option<&str>,
        mut obj: Value,
    ) -> Result<Arc<Value>, ApiError> {
        let def = self.resources[res].clone();
        if !obj.is_object() {
            return Err(ApiError::bad_request(
                "the body of the request is not a JSON object",
            ));
        }
        obj["apiVersion"] = def.api_version().into();
        obj["kind"] = def.kind.into();
        let uid = self.new_uid();
        let meta = meta_mut(&mut obj).map_err(ApiError::bad_request)?;
        let mut name = meta
            .get("name")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string();
        if name.is_empty() {
            let Some(prefix) = meta
                .get("generateName")
                .and_then(Value::as_str)
                .filter(|g| !g.is_empty())
            else {
                return Err(ApiError::invalid(
                    &def,
                    "",
                    "metadata.name",
                    "FieldValueRequired",
                    "Required value: name or generateName is required",
                ));
            };
            name = format!("{prefix}{}", &uid.replace('-', "")[..5]);
            meta.insert("name".into(), name.clone().into());
        }
        let ns = if def.namespaced {
            let body_ns = meta
                .get("namespace")
                .and_then(Value::as_str)
                .filter(|s| !s.is_empty())
                .map(str::to_string);
            let ns = match (path_ns, body_ns) {
                (Some(p), Some(b)) if p != b => {
                    return Err(ApiError::bad_request(
                        "the namespace of the provided object does not match the namespace sent on the request",
                    ));
                }
                (Some(p), _) => p.to_string(),
                (None, Some(b)) => b,
                (None, None) => "default".to_string(),
            };
            meta.insert("namespace".into(), ns.clone().into());
            ns
        } else {
            meta.remove("namespace");
            String::new()
        };
        let key = (ns, name.clone());
        if self.objects[res].contains_key(&key) {
            return Err(ApiError::already_exists(&def, &name));
        }
        let rv = self.next_rv();
        meta.insert("uid".into(), uid.into());
        meta.insert("resourceVersion".into(), rv.to_string().into());
        meta.entry("creationTimestamp")
            .and_modify(|v| {
                if v.is_null() {
                    *v = rfc3339(SystemTime::now()).into();
                }
            })
            .or_insert_with(|| rfc3339(SystemTime::now()).into());
        meta.insert("generation".into(), 1.into());
        meta.remove("deletionTimestamp");
        let obj = Arc::new(obj);
        self.objects[res].insert(key, obj.clone());
        self.record(res, EventType::Added, obj.clone(), None);
        Ok(obj)
    }

    /// Inserts a fixture object as-is, keeping its uid and timestamps when present.
    pub fn insert_fixture(&mut self, res: usize, mut obj: Value) -> Result<Arc<Value>, ApiError> {
        let def = self.resources[res].clone();
        let uid = self.new_uid();
        let meta = meta_mut(&mut obj).map_err(ApiError::bad_request)?;
        let name = meta
            .get("name")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string();
        if name.is_empty() {
            return Err(ApiError::invalid(
                &def,
                "",
                "metadata.name",
                "FieldValueRequired",
                "Required value: name is required",
            ));
        }
        let ns = if def.namespaced {
            let ns = meta
                .get("namespace")
                .and_then(Value::as_str)
                .filter(|s| !s.is_empty())
                .unwrap_or("default")
                .to_string();
            meta.insert("namespace".into(), ns.clone().into());
            ns
        } else {
            meta.remove("namespace");
            String::new()
        };
        meta.entry("uid").or_insert_with(|| uid.into());
        meta.entry("creationTimestamp")
            .or_insert_with(|| rfc3339(SystemTime::now()).into());
        meta.entry("generation").or_insert_with(|| 1.into());
        let key = (ns.clone(), name);
        let prev = self.objects[res].get(&key).cloned();
        let rv = self.next_rv();
        meta_mut(&mut obj)
            .map_err(ApiError::bad_request)?
            .insert("resourceVersion".into(), rv.to_string().into());
        let obj = Arc::new(obj);
        self.objects[res].insert(key, obj.clone());
        let kind = if prev.is_some() {
            EventType::Modified
        } else {
            EventType::Added
        };
        self.record(res, kind, obj.clone(), prev);
        if def.namespaced {
            self.ensure_namespace(&ns);
        }
        Ok(obj)
    }

    /// Creates the Namespace object `ns` if it does not exist (fixtures imply their namespaces).
    pub fn ensure_namespace(&mut self, ns: &str) {
        let Some(idx) = self.find_kind("v1", "Namespace") else {
            return;
        };
        if self.objects[idx].contains_key(&(String::new(), ns.to_string())) {
            return;
        }
        let obj = serde_json::json!({
            "apiVersion": "v1", "kind": "Namespace",
            "metadata": {"name": ns, "labels": {"kubernetes.io/metadata.name": ns}},
            "spec": {"finalizers": ["kubernetes"]},
            "status": {"phase": "Active"}
        });
        let _ = self.insert_fixture(idx, obj);
    }

    /// Replaces an object (PUT semantics). With `check_rv`, a non-empty
    /// `metadata.resourceVersion` that differs from the stored one is a 409 Conflict.
    /// With `status_only`, only `.status` of `obj` is applied.
    pub fn replace(
        &mut self,
        res: usize,
        ns: &str,
        name: &str,
        mut obj: Value,
        status_only: bool,
    ) -> Result<Arc<Value>, ApiError> {
        let def = self.resources[res].clone();
        let key = (ns.to_string(), name.to_string());
        let Some(old) = self.objects[res].get(&key).cloned() else {
            return Err(ApiError::not_found(&def, name));
        };
        if !obj.is_object() {
            return Err(ApiError::bad_request(
                "the body of the request is not a JSON object",
            ));
        }
        let body_name = meta_str(&obj, "name").unwrap_or("");
        if !body_name.is_empty() && body_name != name {
            return Err(ApiError::bad_request(
                "the name of the object does not match the name on the URL",
            ));
        }
        if def.namespaced {
            if let Some(b) = meta_str(&obj, "namespace").filter(|b| !b.is_empty() && *b != ns) {
                let _ = b;
                return Err(ApiError::bad_request(
                    "the namespace of the provided object does not match the namespace sent on the request",
                ));
            }
        }
        if let Some(want) = meta_str(&obj, "resourceVersion").filter(|s| !s.is_empty()) {
            if Some(want) != meta_str(&old, "resourceVersion") {
                return Err(ApiError::conflict(&def, name));
            }
        }
        if status_only {
            let mut merged = (*old).clone();
            match obj.get("status") {
                Some(s) => merged["status"] = s.clone(),
                None => {
                    if let Some(m) = merged.as_object_mut() {
                        m.remove("status");
                    }
                }
            }
            obj = merged;
        }
        obj["apiVersion"] = def.api_version().into();
        obj["kind"] = def.kind.into();
        let spec_changed = old.get("spec") != obj.get("spec");
        let rv = self.next_rv();
        let old_meta = old
            .get("metadata")
            .and_then(Value::as_object)
            .cloned()
            .unwrap_or_default();
        let meta = meta_mut(&mut obj).map_err(ApiError::bad_request)?;
        meta.insert("name".into(), name.into());
        if def.namespaced {
            meta.insert("namespace".into(), ns.into());
        }
        for keep in ["uid", "creationTimestamp"] {
            match old_meta.get(keep) {
                Some(v) => meta.insert(keep.into(), v.clone()),
                None => meta.remove(keep),
            };
        }
        let generation = old_meta
            .get("generation")
            .and_then(Value::as_i64)
            .unwrap_or(1);
        meta.insert(
            "generation".into(),
            (if spec_changed {
                generation + 1
            } else {
                generation
            })
            .into(),
        );
        meta.insert("resourceVersion".into(), rv.to_string().into());
        let obj = Arc::new(obj);
        self.objects[res].insert(key, obj.clone());
        self.record(res, EventType::Modified, obj.clone(), Some(old));
        Ok(obj)
    }

    /// Deletes an object immediately (finalizers are not honoured) and records DELETED.
    pub fn delete(&mut self, res: usize, ns: &str, name: &str) -> Result<Arc<Value>, ApiError> {
        let key = (ns.to_string(), name.to_string());
        let Some(old) = self.objects[res].remove(&key) else {
            return Err(ApiError::not_found(&self.resources[res], name));
        };
        let rv = self.next_rv();
        let mut gone = (*old).clone();
        if let Ok(meta) = meta_mut(&mut gone) {
            meta.insert("resourceVersion".into(), rv.to_string().into());
        }
        let gone = Arc::new(gone);
        self.record(res, EventType::Deleted, gone.clone(), Some(old));
        if self.resources[res].kind == "Pod" && self.resources[res].group.is_empty() {
            self.logs.remove(&key);
        }
        Ok(gone)
    }

    /// Stops serving a group and drops its objects (like deleting its CRDs).
    pub fn remove_group(&mut self, group: &str) {
        let idx: Vec<usize> = (0..self.resources.len())
            .filter(|i| self.resources[*i].group == group)
            .collect();
        for i in idx {
            let keys: Vec<Key> = self.objects[i].keys().cloned().collect();
            for (ns, name) in keys {
                let _ = self.delete(i, &ns, &name);
            }
        }
        self.removed_groups.insert(group.to_string());
    }

    /// First deny rule matching the request, if any.
    pub fn denied(&self, verb: &str, group: &str, resource: &str, ns: Option<&str>) -> bool {
        self.deny.iter().any(|d| {
            (d.verb == "*" || d.verb == verb)
                && d.group == group
                && (d.resource == "*" || d.resource == resource)
                && (d.namespace.is_none() || d.namespace.as_deref() == ns)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn timestamps() {
        assert_eq!(rfc3339(UNIX_EPOCH), "1970-01-01T00:00:00Z");
        let t = UNIX_EPOCH + std::time::Duration::from_secs(1_795_845_661);
        assert_eq!(rfc3339(t), "2026-11-28T06:01:01Z");
    }

    #[test]
    fn create_replace_delete_history() {
        let mut s = State::new();
        let res = s.find_kind("cert-manager.io/v1", "Certificate").unwrap();
        let a = s
            .create(
                res,
                Some("shop"),
                json!({"metadata": {"name": "web"}, "spec": {"a": 1}}),
            )
            .unwrap();
        assert_eq!(meta_str(&a, "namespace"), Some("shop"));
        assert_eq!(meta_str(&a, "resourceVersion"), Some("1"));
        let err = s
            .create(res, Some("shop"), json!({"metadata": {"name": "web"}}))
            .unwrap_err();
        assert_eq!(err.reason, "AlreadyExists");
        let err = s
            .create(res, Some("shop"), json!({"metadata": {}}))
            .unwrap_err();
        assert_eq!(err.code, 422);
        let g = s
            .create(
                res,
                Some("shop"),
                json!({"metadata": {"generateName": "web-"}}),
            )
            .unwrap();
        assert!(meta_str(&g, "name").unwrap().starts_with("web-"));
        assert_eq!(meta_str(&g, "name").unwrap().len(), 9);
        let stale = json!({"metadata": {"name": "web", "resourceVersion": "0"}, "spec": {"a": 2}});
        assert_eq!(
            s.replace(res, "shop", "web", stale, false)
                .unwrap_err()
                .reason,
            "Conflict"
        );
        let ok = json!({"metadata": {"name": "web", "resourceVersion": "1"}, "spec": {"a": 2}});
        let b = s.replace(res, "shop", "web", ok, false).unwrap();
        assert_eq!(b["metadata"]["uid"], a["metadata"]["uid"]);
        assert_eq!(b["metadata"]["generation"], 2);
        s.delete(res, "shop", "web").unwrap();
        let kinds: Vec<_> = s.events_after(1).unwrap().map(|e| e.kind).collect();
        assert_eq!(
            kinds,
            [EventType::Added, EventType::Modified, EventType::Deleted]
        );
        s.compact();
        assert!(s.events_after(1).is_none());
        assert!(s.events_after(s.rv).is_some());
    }

    #[test]
    fn uids_are_unique_and_shaped() {
        let mut s = State::new();
        let a = s.new_uid();
        let b = s.new_uid();
        assert_ne!(a, b);
        assert_eq!(a.len(), 36);
        assert_eq!(&a[14..15], "4");
    }
}
