use super::*;

#[test]
fn masks_secrets_inside_text_and_whole_short_values() {
    let m = Masker::new(["hunter22", "7"], []);
    assert_eq!(m.scrub("password: hunter22\n"), "password: ****\n");
    assert_eq!(m.scrub("7"), "****");
    assert_eq!(m.scrub("port 17"), "port 17");
}

#[test]
fn mask_patterns_mask_every_match() {
    let m = Masker::new(
        ["hunter22"],
        [regex_lite::Regex::new("AKIA[0-9A-Z]{16}").unwrap()],
    );
    assert_eq!(
        m.scrub("key AKIAABCDEFGHIJKLMNOP and AKIAQRSTUVWXYZ234567, pw hunter22"),
        "key **** and ****, pw ****"
    );
}

#[test]
fn a_longer_secret_is_masked_whole_before_a_shorter_one_inside_it() {
    let m = Masker::new(["abcd", "abcdefgh"], []);
    assert_eq!(m.scrub("x abcdefgh y"), "x **** y");
}

#[test]
fn masking_reaches_every_string_of_an_outcome() {
    let event = StackEvent {
        event_id: "1".into(),
        stack_name: "s".into(),
        logical_id: "Q".into(),
        physical_id: Some("id-hunter22".into()),
        resource_type: "AWS::SQS::Queue".into(),
        status: crate::model::EventStatus("CREATE_FAILED".into()),
        reason: Some("value hunter22 rejected".into()),
        timestamp: "t".into(),
        client_request_token: None,
    };
    let outcome = Outcome {
        stack: "s".into(),
        region: "r".into(),
        kind: crate::model::OutcomeKind::RolledBack,
        status: None,
        seconds: 0.0,
        message: Some("hunter22".into()),
        outputs: vec![crate::model::StackOutput {
            key: "Url".into(),
            value: "https://x/?token=hunter22".into(),
            description: None,
            export_name: None,
        }],
        diagnosis: Some(Diagnosis {
            stack: "s".into(),
            status: crate::model::StackStatus::UpdateRollbackComplete,
            root_causes: vec![event.clone()],
            tail: vec![event],
            nested: vec![],
            next_step: "n".into(),
        }),
    };
    let masked = Masker::new(["hunter22"], []).mask(outcome);
    let text = format!("{:?}", *masked);
    assert!(!text.contains("hunter22"), "{text}");
    assert_eq!(text.matches("****").count(), 6, "{text}");
}

#[test]
fn credentials_are_masked_whatever_the_config_says() {
    let m = Masker::default();
    let body = "Bad credentials: Authorization: Bearer ghs_16C7e42F292c6912E7710c838347Ae178B4a used by AKIAIOSFODNN7EXAMPLE; token github_pat_11ABCDEFG0123456789_abcdefghijklmnop";
    let masked = m.scrub(body);
    for secret in [
        "ghs_16C7e42F292c6912E7710c838347Ae178B4a",
        "AKIAIOSFODNN7EXAMPLE",
        "github_pat_11ABCDEFG0123456789_abcdefghijklmnop",
        "Bearer ghs",
    ] {
        assert!(!masked.contains(secret), "{secret} in {masked}");
    }
    assert!(masked.starts_with("Bad credentials: "), "{masked}");
    // Ordinary text is left alone.
    assert_eq!(
        m.scrub("arn:aws:sqs:us-east-1:123456789012:orders"),
        "arn:aws:sqs:us-east-1:123456789012:orders"
    );
}
