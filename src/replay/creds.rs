//! The stand-in's token and key: random, shaped like an ACME server's (RFC 8555 §8.3: the token
//! is base64url without padding, at least 128 bits; Let's Encrypt and Pebble send 32 bytes = 43
//! characters; the key authorization is `<token>.<base64url(SHA-256 JWK thumbprint)>`, 43 + 1 +
//! 43 characters). Nothing here comes from or goes to a CA: the pair only has to be unguessable
//! and to look like a real one to whatever sits in front of the solver (length-limited paths,
//! WAF rules on the challenge path).

use ring::rand::{SecureRandom, SystemRandom};

/// The pair the stand-in serves: `GET /.well-known/acme-challenge/<token>` → `<key>`.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Credentials {
    pub token: String,
    pub key: String,
}

/// base64url without padding (RFC 4648 §5), as ACME uses it.
pub fn base64url(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            chunk.get(1).copied().unwrap_or(0),
            chunk.get(2).copied().unwrap_or(0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        let chars = chunk.len() + 1;
        for i in 0..chars {
            let idx = (n >> (18 - 6 * i)) & 63;
            out.push(char::from(ALPHABET[idx as usize]));
        }
    }
    out
}

impl Credentials {
    /// A fresh pair from the operating system's CSPRNG (through `ring`).
    pub fn random() -> Result<Credentials, String> {
        let rng = SystemRandom::new();
        let mut token = [0u8; 32];
        let mut thumbprint = [0u8; 32];
        rng.fill(&mut token)
            .and_then(|()| rng.fill(&mut thumbprint))
            .map_err(|_| "the operating system's random number generator failed".to_owned())?;
        let token = base64url(&token);
        let key = format!("{token}.{}", base64url(&thumbprint));
        Ok(Credentials { token, key })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64url_matches_rfc4648_vectors() {
        // RFC 4648 §10 vectors, with the URL alphabet and no padding.
        for (input, want) in [
            ("", ""),
            ("f", "Zg"),
            ("fo", "Zm8"),
            ("foo", "Zm9v"),
            ("foob", "Zm9vYg"),
            ("fooba", "Zm9vYmE"),
            ("foobar", "Zm9vYmFy"),
        ] {
            assert_eq!(base64url(input.as_bytes()), want);
        }
        assert_eq!(base64url(&[0xfb, 0xff]), "-_8");
    }

    #[test]
    fn random_pairs_look_like_acme_and_differ() {
        let a = Credentials::random().unwrap();
        let b = Credentials::random().unwrap();
        assert_ne!(a.token, b.token);
        assert_eq!(a.token.len(), 43);
        assert_eq!(a.key.len(), 87);
        assert!(a.key.starts_with(&format!("{}.", a.token)));
        assert!(
            a.key
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
        );
    }
}
