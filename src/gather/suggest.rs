//! Small pure helpers: Adler-32 (cert-manager's solver identity labels) and close-name
//! suggestions.

/// Adler-32 (zlib, Go `hash/adler32`) of `data`.
pub fn adler32(data: &[u8]) -> u32 {
    const MOD: u32 = 65_521;
    let (mut a, mut b) = (1u32, 0u32);
    // 5552 is the largest n with 255n(n+1)/2 + (n+1)(MOD-1) < 2^32: reduce once per chunk.
    for chunk in data.chunks(5552) {
        for &byte in chunk {
            a += u32::from(byte);
            b += a;
        }
        a %= MOD;
        b %= MOD;
    }
    (b << 16) | a
}

/// The label value cert-manager puts on solver resources: decimal Adler-32 of the string.
pub fn identity_label(s: &str) -> String {
    adler32(s.as_bytes()).to_string()
}

/// Levenshtein distance over chars.
pub fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1; b.len() + 1];
        for (j, cb) in b.iter().enumerate() {
            let cost = usize::from(ca != *cb);
            cur[j + 1] = (prev[j] + cost).min(prev[j + 1] + 1).min(cur[j] + 1);
        }
        prev = cur;
    }
    prev[b.len()]
}

/// Up to three names close to `wanted`: small edit distance (at most a third of its length,
/// at least 2), or one contains the other. Closest first.
pub fn close_names(wanted: &str, names: &[String]) -> Vec<String> {
    let limit = (wanted.chars().count() / 3).max(2);
    let mut scored: Vec<(usize, &String)> = names
        .iter()
        .filter(|n| n.as_str() != wanted)
        .filter_map(|n| {
            let d = edit_distance(wanted, n);
            let contains = n.len() >= 3
                && wanted.len() >= 3
                && (n.contains(wanted) || wanted.contains(n.as_str()));
            (d <= limit || contains).then_some((d, n))
        })
        .collect();
    scored.sort();
    scored.dedup_by(|a, b| a.1 == b.1);
    scored.into_iter().take(3).map(|(_, n)| n.clone()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn adler32_known_values() {
        assert_eq!(adler32(b"Wikipedia"), 300_286_872);
        assert_eq!(adler32(b""), 1);
        assert_eq!(adler32(b"a"), 0x0062_0062);
        assert_eq!(adler32(b"abc"), 0x024d_0127);
        // Long input crosses the chunk boundary: compare with the naive definition.
        let long: Vec<u8> = (0..20_000u32).map(|i| (i % 251) as u8).collect();
        let (mut a, mut b) = (1u64, 0u64);
        for &x in &long {
            a = (a + u64::from(x)) % 65_521;
            b = (b + a) % 65_521;
        }
        assert_eq!(adler32(&long), ((b << 16) | a) as u32);
        assert_eq!(identity_label("Wikipedia"), "300286872");
    }

    #[test]
    fn distances_and_suggestions() {
        assert_eq!(edit_distance("kitten", "sitting"), 3);
        assert_eq!(edit_distance("", "abc"), 3);
        let names: Vec<String> = ["web-tls", "web-tls-2", "api", "shop-web-tls-cert"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        assert_eq!(close_names("web-tsl", &names), vec!["web-tls"]);
        assert_eq!(close_names("web", &names)[0], "web-tls");
        assert!(close_names("database", &names).is_empty());
    }
}
