//! What a plan records about the deployed stack and the change set's inputs, so `apply` can
//! refuse a change set whose stack moved on since it was reviewed: SHA-256 hashes, hex.

use std::collections::BTreeMap;

use sha2::{Digest, Sha256};

use crate::config::StackSpec;

pub fn sha256_hex(bytes: &[u8]) -> String {
    let digest = Sha256::digest(bytes);
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

/// Parameters as sorted `key=value` lines: what the parameter hashes are computed over.
pub fn parameter_lines(params: impl Iterator<Item = (String, String)>) -> String {
    let sorted: BTreeMap<String, String> = params.collect();
    sorted
        .into_iter()
        .map(|(k, v)| format!("{k}={v}\n"))
        .collect()
}

/// Hash of parameters as CloudFormation reports them for a deployed stack.
pub fn deployed_parameters_sha256(parameters: &[(String, String)]) -> String {
    sha256_hex(parameter_lines(parameters.iter().cloned()).as_bytes())
}

/// Hash of the parameters a change set is created with. NoEcho values are left out, so the hash
/// cannot be used to guess them.
pub fn parameters_sha256(spec: &StackSpec) -> String {
    let lines = parameter_lines(spec.parameters.iter().map(|(k, v)| {
        let v = if spec.is_no_echo(k) {
            crate::mask::MASK.to_string()
        } else {
            v.clone()
        };
        (k.clone(), v)
    }));
    sha256_hex(lines.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_parameter_hash_ignores_order() {
        let a = vec![("B".to_string(), "2".to_string()), ("A".into(), "1".into())];
        let b = vec![("A".to_string(), "1".to_string()), ("B".into(), "2".into())];
        assert_eq!(
            deployed_parameters_sha256(&a),
            deployed_parameters_sha256(&b)
        );
        assert_eq!(parameter_lines(a.into_iter()), "A=1\nB=2\n");
        assert_eq!(
            sha256_hex(b""),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
    }
}
