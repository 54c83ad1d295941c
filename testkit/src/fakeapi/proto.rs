//! Just enough Kubernetes protobuf to read a `SelfSubjectAccessReview`:
//! client-go's typed clients (e.g. `kubectl auth can-i`) send built-in kinds
//! as `application/vnd.kubernetes.protobuf`. Everything else in protobuf is
//! answered with 415.

use serde_json::{Map, Value, json};

enum Field<'a> {
    Varint,
    Bytes(&'a [u8]),
}

fn varint(buf: &[u8], pos: &mut usize) -> Option<u64> {
    let mut v = 0u64;
    for shift in (0..64).step_by(7) {
        let b = *buf.get(*pos)?;
        *pos += 1;
        v |= u64::from(b & 0x7f) << shift;
        if b & 0x80 == 0 {
            return Some(v);
        }
    }
    None
}

/// The top-level fields of one message (fixed32/64 are skipped).
fn fields(buf: &[u8]) -> Option<Vec<(u64, Field<'_>)>> {
    let mut out = Vec::new();
    let mut pos = 0;
    while pos < buf.len() {
        let key = varint(buf, &mut pos)?;
        let (num, wire) = (key >> 3, key & 7);
        match wire {
            0 => {
                varint(buf, &mut pos)?;
                out.push((num, Field::Varint));
            }
            1 => pos += 8,
            2 => {
                let len = usize::try_from(varint(buf, &mut pos)?).ok()?;
                let end = pos.checked_add(len)?;
                out.push((num, Field::Bytes(buf.get(pos..end)?)));
                pos = end;
            }
            5 => pos += 4,
            _ => return None,
        }
    }
    (pos == buf.len()).then_some(out)
}

fn sub(buf: &[u8], num: u64) -> Option<&[u8]> {
    fields(buf)?.into_iter().find_map(|(n, f)| match f {
        Field::Bytes(b) if n == num => Some(b),
        _ => None,
    })
}

/// Decodes `k8s\0` + runtime.Unknown{raw: SelfSubjectAccessReview} into
/// its JSON form (only `spec.resourceAttributes`).
pub fn decode_access_review(body: &[u8]) -> Option<Value> {
    let unknown = body.strip_prefix(b"k8s\0")?;
    let raw = sub(unknown, 2)?;
    let spec = sub(raw, 2).unwrap_or(&[]);
    let mut attrs = Map::new();
    if let Some(ra) = sub(spec, 1) {
        const NAMES: [&str; 7] = [
            "namespace",
            "verb",
            "group",
            "version",
            "resource",
            "subresource",
            "name",
        ];
        for (n, f) in fields(ra)? {
            if let (Field::Bytes(b), Some(name)) = (
                f,
                usize::try_from(n)
                    .ok()
                    .and_then(|n| NAMES.get(n.wrapping_sub(1))),
            ) {
                attrs.insert((*name).into(), json!(String::from_utf8_lossy(b)));
            }
        }
    }
    Some(json!({
        "apiVersion": "authorization.k8s.io/v1",
        "kind": "SelfSubjectAccessReview",
        "metadata": {},
        "spec": {"resourceAttributes": attrs},
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lenp(num: u8, b: &[u8]) -> Vec<u8> {
        let mut v = vec![(num << 3) | 2, b.len() as u8];
        v.extend_from_slice(b);
        v
    }

    #[test]
    fn decodes_a_review() {
        let ra = [
            lenp(1, b"shop"),
            lenp(2, b"list"),
            lenp(3, b"acme.cert-manager.io"),
            lenp(5, b"challenges"),
        ]
        .concat();
        let spec = lenp(1, &ra);
        let raw = [lenp(1, b""), lenp(2, &spec)].concat();
        let unknown = [lenp(1, &lenp(2, b"SelfSubjectAccessReview")), lenp(2, &raw)].concat();
        let body = [b"k8s\0".as_slice(), &unknown].concat();
        let v = decode_access_review(&body).unwrap();
        assert_eq!(
            v["spec"]["resourceAttributes"],
            json!({"namespace": "shop", "verb": "list", "group": "acme.cert-manager.io", "resource": "challenges"})
        );
        assert!(decode_access_review(b"{}").is_none());
        assert!(decode_access_review(b"k8s\0\xff").is_none());
    }
}
