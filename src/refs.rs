//! References to other stacks' outputs in parameter and tag values: `${stack:NAME.Output}` for a
//! stack of the config, `${stack:REGION/NAME.Output}` for any stack. A value may hold several,
//! with text around them. Read when the config is (syntax, which stacks a stack depends on) and
//! resolved when the plan is made (the outputs as deployed).

use std::fmt;

const OPEN: &str = "${stack:";

/// One `${stack:…}` reference.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Reference {
    /// `None`: a stack of the config, in its own region.
    pub region: Option<String>,
    pub stack: String,
    pub output: String,
}

impl fmt::Display for Reference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.region {
            Some(r) => write!(f, "${{stack:{r}/{}.{}}}", self.stack, self.output),
            None => write!(f, "${{stack:{}.{}}}", self.stack, self.output),
        }
    }
}

/// Whether `value` holds a reference at all.
pub fn has_any(value: &str) -> bool {
    value.contains(OPEN)
}

/// Every reference in `value`, or what is wrong with the first malformed one.
pub fn find(value: &str) -> Result<Vec<Reference>, String> {
    let mut found = Vec::new();
    let mut rest = value;
    while let Some(start) = rest.find(OPEN) {
        let after = &rest[start + OPEN.len()..];
        let Some(end) = after.find('}') else {
            return Err(format!("`{}` is not closed with `}}`", &rest[start..]));
        };
        found.push(parse(&after[..end])?);
        rest = &after[end + 1..];
    }
    Ok(found)
}

fn parse(inner: &str) -> Result<Reference, String> {
    let bad = || {
        format!("`${{stack:{inner}}}` is not a reference; write `${{stack:NAME.Output}}` for a stack of the config, or `${{stack:REGION/NAME.Output}}`")
    };
    let (region, rest) = match inner.split_once('/') {
        Some((region, rest)) => (Some(region.to_string()), rest),
        None => (None, inner),
    };
    let (stack, output) = rest.split_once('.').ok_or_else(bad)?;
    let valid_stack =
        !stack.is_empty() && stack.chars().all(|c| c.is_ascii_alphanumeric() || c == '-');
    let valid_output = !output.is_empty() && output.chars().all(|c| c.is_ascii_alphanumeric());
    let valid_region = region.as_deref().map_or(true, |r| {
        !r.is_empty()
            && r.chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
    });
    if !(valid_stack && valid_output && valid_region) {
        return Err(bad());
    }
    Ok(Reference {
        region,
        stack: stack.to_string(),
        output: output.to_string(),
    })
}

/// `value` with every reference replaced by `lookup`'s value for it; the first reference
/// `lookup` has no value for is the error.
pub fn substitute(
    value: &str,
    lookup: &dyn Fn(&Reference) -> Option<String>,
) -> Result<String, Reference> {
    let mut out = String::with_capacity(value.len());
    let mut rest = value;
    while let Some(start) = rest.find(OPEN) {
        let after = &rest[start + OPEN.len()..];
        let Some(end) = after.find('}') else { break };
        let Ok(reference) = parse(&after[..end]) else {
            break;
        };
        out.push_str(&rest[..start]);
        out.push_str(&lookup(&reference).ok_or(reference)?);
        rest = &after[end + 1..];
    }
    out.push_str(rest);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn references_are_read_with_text_around_them() {
        let refs =
            find("arn:${stack:network.VpcId}/x/${stack:eu-west-1/shared-dns.ZoneId}").unwrap();
        assert_eq!(
            refs,
            [
                Reference {
                    region: None,
                    stack: "network".into(),
                    output: "VpcId".into()
                },
                Reference {
                    region: Some("eu-west-1".into()),
                    stack: "shared-dns".into(),
                    output: "ZoneId".into()
                }
            ]
        );
        assert_eq!(refs[1].to_string(), "${stack:eu-west-1/shared-dns.ZoneId}");
        assert!(find("plain ${env:X}").unwrap().is_empty());
    }

    #[test]
    fn a_malformed_reference_says_how_to_write_one() {
        for bad in [
            "${stack:network}",
            "${stack:net work.X}",
            "${stack:network.Vpc-Id}",
            "${stack:network.VpcId",
        ] {
            let err = find(bad).unwrap_err();
            assert!(err.contains("stack:"), "{bad}: {err}");
        }
    }

    #[test]
    fn substitution_fills_every_reference_or_names_the_missing_one() {
        let lookup = |r: &Reference| (r.output == "VpcId").then(|| "vpc-123".to_string());
        assert_eq!(
            substitute("id=${stack:network.VpcId};", &lookup).unwrap(),
            "id=vpc-123;"
        );
        let missing = substitute("${stack:network.SubnetId}", &lookup).unwrap_err();
        assert_eq!(missing.output, "SubnetId");
    }
}
