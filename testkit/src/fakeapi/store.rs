//! The in-memory object store: objects per resource keyed by
//! (namespace, name), one global resourceVersion counter, and a bounded
//! history of change events that watches replay from.

use std::collections::{BTreeMap, HashMap, HashSet, VecDeque};
use std::sync::{Arc, OnceLock};

use bytes::Bytes;

use serde_json::{Value, json};

use super::resources::{self, Resource};
use super::status::{self, ApiError};
use super::util;

/// A stored object with its JSON text, serialized once on first use (LIST
/// and watch responses copy bytes instead of re-serializing).
#[derive(Debug)]
pub struct Stored {
    value: Value,
    json: OnceLock<Bytes>,
}

impl Stored {
    pub fn new(value: Value) -> Stored {
        Stored {
            value,
            json: OnceLock::new(),
        }
    }

    pub fn json(&self) -> &Bytes {
        self.json
            .get_or_init(|| Bytes::from(serde_json::to_vec(&self.value).unwrap_or_default()))
    }
}

impl std::ops::Deref for Stored {
    type Target = Value;
    fn deref(&self) -> &Value {
        &self.value
    }
}

/// A shared, immutable stored object.
pub type Obj = Arc<Stored>;

/// (namespace, name); namespace is "" for cluster-scoped objects.
pub type Key = (String, String);

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EventType {
    Added,
    Modified,
    Deleted,
}

/// One committed change.
#[derive(Debug)]
pub struct Event {
    pub rv: u64,
    pub res: usize,
    pub ns: String,
    pub etype: EventType,
    pub obj: Obj,
    /// The object before a MODIFIED (lets a filtered watch turn a change
    /// that leaves/enters its selector into DELETED/ADDED, as the real
    /// watch cache does).
    pub old: Option<Obj>,
}

/// How an update treats `.status` (resources with a status subresource
/// ignore status changes on the main resource and vice versa).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum UpdateMode {
    /// Test-side update: take the object as given.
    Whole,
    /// PUT/PATCH on the main resource.
    Main,
    /// PUT/PATCH on `/status`.
    Status,
}

pub struct Store {
    pub resources: Vec<Resource>,
    pub hidden_groups: HashSet<String>,
    objects: Vec<BTreeMap<Key, Obj>>,
    pub rv: u64,
    events: VecDeque<Arc<Event>>,
    /// All events with rv > `oldest_rv` are still in `events`.
    oldest_rv: u64,
    pub history_limit: usize,
    logs: HashMap<Key, String>,
    /// Pods whose container has ended: `follow` streams end there.
    logs_closed: HashSet<Key>,
    /// The kubelet's nodes while it is enabled.
    pub kubelet_nodes: Option<Vec<String>>,
    /// UIDs of the pods the kubelet runs (graceful deletion applies).
    managed: HashSet<String>,
    /// Pods created since the kubelet last looked: (namespace, name, uid).
    pub kubelet_queue: Vec<(String, String, String)>,
}

pub fn name_of(obj: &Value) -> &str {
    obj.pointer("/metadata/name")
        .and_then(Value::as_str)
        .unwrap_or("")
}

pub fn namespace_of(obj: &Value) -> &str {
    obj.pointer("/metadata/namespace")
        .and_then(Value::as_str)
        .unwrap_or("")
}

pub fn uid_of(obj: &Value) -> &str {
    obj.pointer("/metadata/uid")
        .and_then(Value::as_str)
        .unwrap_or("")
}

/// A pod the kubelet takes on: no status yet, or the bare `Pending` status
/// the API server gives a new pod (fixtures with a full status are left
/// alone).
fn kubelet_adopts(obj: &Value) -> bool {
    match obj.get("status") {
        None | Some(Value::Null) => true,
        Some(st) => {
            st.get("conditions").is_none()
                && st.get("containerStatuses").is_none()
                && st
                    .get("phase")
                    .and_then(Value::as_str)
                    .is_none_or(|p| p == "Pending")
        }
    }
}

pub fn rv_of(obj: &Value) -> &str {
    obj.pointer("/metadata/resourceVersion")
        .and_then(Value::as_str)
        .unwrap_or("")
}

/// `metadata` as a mutable map, created if missing or not an object.
pub fn meta_mut(obj: &mut Value) -> &mut serde_json::Map<String, Value> {
    if !obj.is_object() {
        *obj = json!({});
    }
    let m = obj
        .as_object_mut()
        .map(|o| o.entry("metadata").or_insert_with(|| json!({})));
    match m {
        Some(v) => {
            if !v.is_object() {
                *v = json!({});
            }
            match v.as_object_mut() {
                Some(map) => map,
                None => unreachable!("metadata was just made an object"),
            }
        }
        None => unreachable!("obj was just made an object"),
    }
}

fn has_finalizers(obj: &Value) -> bool {
    obj.pointer("/metadata/finalizers")
        .and_then(Value::as_array)
        .is_some_and(|f| !f.is_empty())
}

impl Default for Store {
    fn default() -> Self {
        Self::new()
    }
}

impl Store {
    pub fn new() -> Store {
        let resources = resources::builtin();
        let objects = resources.iter().map(|_| BTreeMap::new()).collect();
        let mut s = Store {
            resources,
            hidden_groups: HashSet::new(),
            objects,
            rv: 0,
            events: VecDeque::new(),
            oldest_rv: 0,
            history_limit: 200_000,
            logs: HashMap::new(),
            logs_closed: HashSet::new(),
            kubelet_nodes: None,
            managed: HashSet::new(),
            kubelet_queue: Vec::new(),
        };
        for ns in ["default", "kube-system", "kube-public", "kube-node-lease"] {
            s.ensure_namespace(ns);
        }
        s
    }

    pub fn group_visible(&self, group: &str) -> bool {
        !self.hidden_groups.contains(group)
    }

    /// A served resource by group/version/plural.
    pub fn find(&self, group: &str, version: &str, plural: &str) -> Option<usize> {
        if !self.group_visible(group) {
            return None;
        }
        self.resources
            .iter()
            .position(|r| r.group == group && r.version == version && r.plural == plural)
    }

    /// A resource by `apiVersion` + `kind` (visible or not).
    pub fn find_kind(&self, api_version: &str, kind: &str) -> Option<usize> {
        let (group, version) = api_version.rsplit_once('/').unwrap_or(("", api_version));
        self.resources
            .iter()
            .position(|r| r.group == group && r.version == version && r.kind == kind)
    }

    /// The resource for an object, registering a guessed one for kinds not
    /// in the table, and un-hiding its group (loading an object "installs"
    /// its CRD).
    pub fn resource_for(&mut self, obj: &Value) -> Result<usize, String> {
        let api_version = obj.get("apiVersion").and_then(Value::as_str).unwrap_or("");
        let kind = obj.get("kind").and_then(Value::as_str).unwrap_or("");
        if api_version.is_empty() || kind.is_empty() {
            return Err(format!("object {:?} has no apiVersion/kind", name_of(obj)));
        }
        let idx = match self.find_kind(api_version, kind) {
            Some(i) => i,
            None => {
                let (group, version) = api_version.rsplit_once('/').unwrap_or(("", api_version));
                let namespaced = !namespace_of(obj).is_empty();
                self.resources
                    .push(Resource::guessed(group, version, kind, namespaced));
                self.objects.push(BTreeMap::new());
                self.resources.len() - 1
            }
        };
        let group = self.resources[idx].group.clone();
        self.hidden_groups.remove(&group);
        Ok(idx)
    }

    pub fn get(&self, res: usize, ns: &str, name: &str) -> Option<Obj> {
        self.objects[res]
            .get(&(ns.to_string(), name.to_string()))
            .cloned()
    }

    /// Objects of a resource, in one namespace or all, in (namespace, name)
    /// order, starting after `after` (for `continue`).
    pub fn list(&self, res: usize, ns: Option<&str>, after: Option<&Key>) -> Vec<Obj> {
        use std::ops::Bound;
        let map = &self.objects[res];
        let lower = match after {
            Some(k) => Bound::Excluded(k.clone()),
            None => match ns {
                Some(ns) => Bound::Included((ns.to_string(), String::new())),
                None => Bound::Unbounded,
            },
        };
        map.range((lower, Bound::Unbounded))
            .take_while(|((kns, _), _)| ns.is_none_or(|n| n == kns))
            .map(|(_, v)| v.clone())
            .collect()
    }

    pub fn count(&self) -> usize {
        self.objects.iter().map(BTreeMap::len).sum()
    }

    fn push_event(&mut self, ev: Event) {
        self.events.push_back(Arc::new(ev));
        while self.events.len() > self.history_limit {
            if let Some(e) = self.events.pop_front() {
                self.oldest_rv = e.rv;
            }
        }
    }

    /// Forgets all history (like an etcd compaction): watches from any
    /// resourceVersion older than now get 410 Expired.
    pub fn compact(&mut self) {
        self.events.clear();
        self.oldest_rv = self.rv;
    }

    /// Events of one resource with rv > `since`.
    pub fn events_since(&self, res: usize, since: u64) -> Result<Vec<Arc<Event>>, ApiError> {
        if since < self.oldest_rv {
            return Err(status::expired(since, self.oldest_rv + 1));
        }
        let start = self.events.partition_point(|e| e.rv <= since);
        Ok(self
            .events
            .range(start..)
            .filter(|e| e.res == res)
            .cloned()
            .collect())
    }

    fn next_rv(&mut self, obj: &mut Value) -> u64 {
        self.rv += 1;
        meta_mut(obj).insert("resourceVersion".into(), json!(self.rv.to_string()));
        self.rv
    }

    fn ns_res() -> usize {
        0 // the table starts with Namespace
    }

    pub fn namespace_exists(&self, ns: &str) -> bool {
        self.objects[Self::ns_res()].contains_key(&(String::new(), ns.to_string()))
    }

    /// Creates the Namespace object if it does not exist.
    pub fn ensure_namespace(&mut self, ns: &str) {
        if ns.is_empty() || self.namespace_exists(ns) {
            return;
        }
        let obj = json!({
            "apiVersion": "v1", "kind": "Namespace",
            "metadata": {"name": ns, "labels": {"kubernetes.io/metadata.name": ns}},
            "spec": {"finalizers": ["kubernetes"]},
            "status": {"phase": "Active"},
        });
        // Cannot fail: the name is set and the namespace does not exist.
        let _ = self.create(Self::ns_res(), "", obj);
    }

    /// Fills server-set metadata and stores a new object (POST semantics).
    pub fn create(&mut self, res: usize, ns: &str, mut obj: Value) -> Result<Obj, ApiError> {
        let r = &self.resources[res];
        let (api_version, kind) = (r.api_version(), r.kind.clone());
        if let Some(o) = obj.as_object_mut() {
            o.insert("apiVersion".into(), json!(api_version));
            o.insert("kind".into(), json!(kind));
        }
        let namespaced = r.namespaced;
        let meta = meta_mut(&mut obj);
        let mut name = meta
            .get("name")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string();
        if name.is_empty() {
            match meta.get("generateName").and_then(Value::as_str) {
                Some(g) if !g.is_empty() => {
                    name = format!("{g}{}", util::name_suffix());
                    meta.insert("name".into(), json!(name));
                }
                _ => {
                    return Err(status::invalid(
                        &self.resources[res],
                        "",
                        "metadata.name",
                        "FieldValueRequired",
                        "name or generateName is required",
                    ));
                }
            }
        }
        if namespaced {
            meta.insert("namespace".into(), json!(ns));
        } else {
            meta.remove("namespace");
        }
        if meta
            .get("uid")
            .and_then(Value::as_str)
            .is_none_or(str::is_empty)
        {
            meta.insert("uid".into(), json!(util::new_uid()));
        }
        if meta.get("creationTimestamp").is_none_or(Value::is_null) {
            meta.insert("creationTimestamp".into(), json!(util::now_rfc3339()));
        }
        if !meta.contains_key("generation") {
            meta.insert("generation".into(), json!(1));
        }
        let key = (
            if namespaced {
                ns.to_string()
            } else {
                String::new()
            },
            name.clone(),
        );
        if self.objects[res].contains_key(&key) {
            return Err(status::already_exists(&self.resources[res], &name));
        }
        let rv = self.next_rv(&mut obj);
        if self.kubelet_nodes.is_some() && kind == "Pod" && kubelet_adopts(&obj) {
            if obj.get("status").is_none_or(Value::is_null) {
                // A test-side insert: treat it like a POST.
                super::pods::prepare_for_create(&mut obj);
            }
            let uid = uid_of(&obj).to_string();
            self.managed.insert(uid.clone());
            self.kubelet_queue.push((key.0.clone(), name.clone(), uid));
        }
        let obj = Arc::new(Stored::new(obj));
        self.objects[res].insert(key.clone(), obj.clone());
        self.push_event(Event {
            rv,
            res,
            ns: key.0,
            etype: EventType::Added,
            obj: obj.clone(),
            old: None,
        });
        Ok(obj)
    }

    /// Replaces an existing object. `check_rv`: a non-empty
    /// `metadata.resourceVersion` in `new` must equal the stored one.
    pub fn update(
        &mut self,
        res: usize,
        ns: &str,
        name: &str,
        mut new: Value,
        mode: UpdateMode,
        check_rv: bool,
    ) -> Result<Obj, ApiError> {
        let key = (ns.to_string(), name.to_string());
        let Some(old) = self.objects[res].get(&key).cloned() else {
            return Err(status::not_found(&self.resources[res], name));
        };
        let r = &self.resources[res];
        if check_rv {
            let want = rv_of(&new);
            if !want.is_empty() && want != rv_of(&old) {
                return Err(status::conflict(r, name));
            }
        }
        let has_status = r.has_subresource("status");
        match mode {
            UpdateMode::Whole => {}
            UpdateMode::Main if has_status => match old.get("status") {
                Some(s) => new["status"] = s.clone(),
                None => {
                    if let Some(o) = new.as_object_mut() {
                        o.remove("status");
                    }
                }
            },
            UpdateMode::Main => {}
            UpdateMode::Status => {
                let st = new.get("status").cloned();
                new = (*old).clone();
                match st {
                    Some(s) => new["status"] = s,
                    None => {
                        if let Some(o) = new.as_object_mut() {
                            o.remove("status");
                        }
                    }
                }
            }
        }
        if let Some(o) = new.as_object_mut() {
            o.insert("apiVersion".into(), json!(r.api_version()));
            o.insert("kind".into(), json!(r.kind));
        }
        // Server-owned metadata survives updates.
        let old_meta = old.get("metadata").cloned().unwrap_or_else(|| json!({}));
        let spec_changed = new.get("spec") != old.get("spec");
        let meta = meta_mut(&mut new);
        meta.insert("name".into(), json!(name));
        if r.namespaced {
            meta.insert("namespace".into(), json!(ns));
        }
        for k in ["uid", "creationTimestamp", "deletionTimestamp"] {
            if let Some(v) = old_meta.get(k) {
                meta.insert(k.into(), v.clone());
            }
        }
        if mode != UpdateMode::Whole || !meta.contains_key("generation") {
            let gen_old = old_meta
                .get("generation")
                .and_then(Value::as_i64)
                .unwrap_or(1);
            let generation = if spec_changed && mode != UpdateMode::Status {
                gen_old + 1
            } else {
                gen_old
            };
            meta.insert("generation".into(), json!(generation));
        }
        if new.pointer("/metadata/deletionTimestamp").is_some()
            && !has_finalizers(&new)
            && (has_finalizers(&old) || !self.managed.contains(uid_of(&new)))
        {
            // (A pod the kubelet is terminating only goes when its last
            // finalizer is removed, not on every status update.)
            // The last finalizer is gone: the deletion completes.
            self.objects[res].insert(key, Arc::new(Stored::new(new)));
            return self.remove(res, ns, name);
        }
        if **old == new_with_rv(&new, rv_of(&old)) {
            // No-op updates do not bump the resourceVersion.
            return Ok(old);
        }
        Ok(self.commit_modified(res, key, old, new))
    }

    /// Stores a changed object with a new resourceVersion and emits MODIFIED.
    fn commit_modified(&mut self, res: usize, key: Key, old: Obj, mut new: Value) -> Obj {
        let rv = self.next_rv(&mut new);
        let new = Arc::new(Stored::new(new));
        self.objects[res].insert(key.clone(), new.clone());
        self.push_event(Event {
            rv,
            res,
            ns: key.0,
            etype: EventType::Modified,
            obj: new.clone(),
            old: Some(old),
        });
        new
    }

    /// DELETE semantics: objects with finalizers get a deletionTimestamp
    /// (MODIFIED); others are removed (DELETED). Deleting a Namespace
    /// removes everything in it first.
    pub fn delete(&mut self, res: usize, ns: &str, name: &str) -> Result<Obj, ApiError> {
        let key = (ns.to_string(), name.to_string());
        let Some(old) = self.objects[res].get(&key).cloned() else {
            return Err(status::not_found(&self.resources[res], name));
        };
        if has_finalizers(&old) {
            if old.pointer("/metadata/deletionTimestamp").is_some() {
                return Ok(old);
            }
            let mut new = (*old).clone();
            let meta = meta_mut(&mut new);
            meta.insert("deletionTimestamp".into(), json!(util::now_rfc3339()));
            meta.insert("deletionGracePeriodSeconds".into(), json!(0));
            return Ok(self.commit_modified(res, key, old, new));
        }
        if res == Self::ns_res() {
            for r in 0..self.resources.len() {
                if !self.resources[r].namespaced {
                    continue;
                }
                let names: Vec<String> = self.objects[r]
                    .range((name.to_string(), String::new())..)
                    .take_while(|((n, _), _)| n == name)
                    .map(|((_, n), _)| n.clone())
                    .collect();
                for n in names {
                    let _ = self.remove(r, name, &n);
                }
            }
        }
        self.remove(res, ns, name)
    }

    /// DELETE of a pod the kubelet runs: graceful deletion
    /// (`deletionTimestamp` = now + period, `deletionGracePeriodSeconds`,
    /// MODIFIED) unless the period is 0 (unbound, finished, or not on a
    /// kubelet node), which deletes at once. A second DELETE may only
    /// shorten the period. Other objects: [`Store::delete`].
    pub fn delete_graceful(
        &mut self,
        res: usize,
        ns: &str,
        name: &str,
        requested: Option<i64>,
    ) -> Result<Obj, ApiError> {
        let key = (ns.to_string(), name.to_string());
        let Some(old) = self.objects[res].get(&key).cloned() else {
            return Err(status::not_found(&self.resources[res], name));
        };
        if !self.managed.contains(uid_of(&old)) {
            return self.delete(res, ns, name);
        }
        let node = old
            .pointer("/spec/nodeName")
            .and_then(Value::as_str)
            .unwrap_or("");
        let on_kubelet = self
            .kubelet_nodes
            .as_ref()
            .is_some_and(|n| n.iter().any(|x| x == node));
        let period = if on_kubelet {
            super::pods::grace_period(&old, requested)
        } else {
            0
        };
        if period == 0 {
            return self.delete(res, ns, name);
        }
        let current = old
            .pointer("/metadata/deletionGracePeriodSeconds")
            .and_then(Value::as_i64);
        if old.pointer("/metadata/deletionTimestamp").is_some()
            && current.is_some_and(|c| c <= period)
        {
            return Ok(old);
        }
        let mut new = (*old).clone();
        let meta = meta_mut(&mut new);
        let when = util::now_secs() + u64::try_from(period).unwrap_or(0);
        meta.insert("deletionTimestamp".into(), json!(util::rfc3339(when)));
        meta.insert("deletionGracePeriodSeconds".into(), json!(period));
        Ok(self.commit_modified(res, key, old, new))
    }

    /// Is this pod run by the kubelet?
    pub fn is_managed(&self, pod: &Value) -> bool {
        self.managed.contains(uid_of(pod))
    }

    /// Marks a pod's log complete (its container ended).
    pub fn close_logs(&mut self, ns: &str, name: &str) {
        self.logs_closed.insert((ns.to_string(), name.to_string()));
    }

    pub fn logs_closed(&self, ns: &str, name: &str) -> bool {
        self.logs_closed
            .contains(&(ns.to_string(), name.to_string()))
    }

    /// Removes an object unconditionally and emits DELETED.
    fn remove(&mut self, res: usize, ns: &str, name: &str) -> Result<Obj, ApiError> {
        let key = (ns.to_string(), name.to_string());
        let Some(old) = self.objects[res].remove(&key) else {
            return Err(status::not_found(&self.resources[res], name));
        };
        let mut gone = (*old).clone();
        let rv = self.next_rv(&mut gone);
        let gone = Arc::new(Stored::new(gone));
        if self.resources[res].kind == "Pod" {
            self.logs.remove(&key);
            self.logs_closed.remove(&key);
            self.managed.remove(uid_of(&old));
        }
        self.push_event(Event {
            rv,
            res,
            ns: key.0,
            etype: EventType::Deleted,
            obj: gone.clone(),
            old: Some(old),
        });
        Ok(gone)
    }

    /// Test-side insert: create, or replace wholesale if it exists. Missing
    /// namespaces are created; namespaced objects without one go to
    /// "default".
    pub fn upsert(&mut self, mut obj: Value) -> Result<Obj, String> {
        let res = self.resource_for(&obj)?;
        let namespaced = self.resources[res].namespaced;
        let ns = if namespaced {
            let ns = namespace_of(&obj);
            if ns.is_empty() {
                "default".to_string()
            } else {
                ns.to_string()
            }
        } else {
            String::new()
        };
        self.ensure_namespace(&ns);
        let name = name_of(&obj).to_string();
        if !name.is_empty() && self.get(res, &ns, &name).is_some() {
            meta_mut(&mut obj).remove("resourceVersion");
            return self
                .update(res, &ns, &name, obj, UpdateMode::Whole, false)
                .map_err(|e| e.message);
        }
        self.create(res, &ns, obj).map_err(|e| e.message)
    }

    /// Hides a group (CRDs uninstalled): its objects are deleted and it
    /// disappears from discovery.
    pub fn remove_group(&mut self, group: &str) {
        for r in 0..self.resources.len() {
            if self.resources[r].group != group {
                continue;
            }
            let keys: Vec<Key> = self.objects[r].keys().cloned().collect();
            for (ns, name) in keys {
                let _ = self.remove(r, &ns, &name);
            }
        }
        self.hidden_groups.insert(group.to_string());
    }

    pub fn logs(&self, ns: &str, name: &str) -> Option<&str> {
        self.logs
            .get(&(ns.to_string(), name.to_string()))
            .map(String::as_str)
    }

    pub fn set_logs(&mut self, ns: &str, name: &str, text: String) {
        self.logs.insert((ns.to_string(), name.to_string()), text);
    }

    pub fn append_logs(&mut self, ns: &str, name: &str, text: &str) {
        self.logs
            .entry((ns.to_string(), name.to_string()))
            .or_default()
            .push_str(text);
    }
}

/// `obj` with `metadata.resourceVersion` set to `rv` (for no-op detection).
fn new_with_rv(obj: &Value, rv: &str) -> Value {
    let mut o = obj.clone();
    meta_mut(&mut o).insert("resourceVersion".into(), json!(rv));
    o
}
