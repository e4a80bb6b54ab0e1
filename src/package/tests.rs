//! Packaging: what counts as a local artifact, deterministic archives, rewriting, nested
//! templates, and what changed against the deployed template.

use super::*;
use crate::cfn::fake::FakeCfn;

fn tree() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let write = |rel: &str, text: &str| {
        let path = dir.path().join(rel);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    };
    write("src/app.py", "def handler(event, context):\n    return 1\n");
    write("src/lib/util.py", "X = 1\n");
    write("api.yaml", "openapi: 3.0.0\n");
    write(
        "nested.yaml",
        "Resources:\n  Inner:\n    Type: AWS::Serverless::Function\n    Properties: {CodeUri: ./src, Handler: app.handler, Runtime: python3.12}\n",
    );
    write(
        "template.yaml",
        "Transform: AWS::Serverless-2016-10-31\nResources:\n  Fn:\n    Type: AWS::Serverless::Function\n    Properties: {CodeUri: ./src, Handler: app.handler, Runtime: python3.12}\n  Plain:\n    Type: AWS::Lambda::Function\n    Properties:\n      Code: src/app.py\n      Handler: app.handler\n  Remote:\n    Type: AWS::Serverless::Function\n    Properties: {CodeUri: 's3://elsewhere/code.zip'}\n  Api:\n    Type: AWS::Serverless::Api\n    Properties: {DefinitionUri: ./api.yaml}\n  Child:\n    Type: AWS::CloudFormation::Stack\n    Properties: {TemplateURL: ./nested.yaml}\n",
    );
    dir
}

fn doc(dir: &Path) -> Value {
    crate::yaml::template_to_json(&std::fs::read_to_string(dir.join("template.yaml")).unwrap())
        .unwrap()
}

#[test]
fn what_packaging_would_fail_on_is_found_without_uploading() {
    let dir = tree();
    let template = dir.path().join("template.yaml");
    assert_eq!(
        problems(&doc(dir.path()), &template, true),
        Vec::<String>::new()
    );
    let without_bucket = problems(&doc(dir.path()), &template, false);
    assert_eq!(without_bucket.len(), 4, "{without_bucket:?}");
    assert!(
        without_bucket.iter().any(|p| p.ends_with(
            "template.yaml: line 5: resource Fn points CodeUri at the local path `./src`; set `template_bucket` for the stack so cfdeploy can upload it"
        )),
        "{without_bucket:?}"
    );
    // A missing folder, and one missing inside a nested template, named by where they are.
    std::fs::remove_dir_all(dir.path().join("src")).unwrap();
    let missing = problems(&doc(dir.path()), &template, true);
    assert_eq!(missing.len(), 3, "{missing:?}");
    assert!(
        missing
            .iter()
            .any(|p| p
                .contains("nested.yaml: line 4: resource Child/Inner: CodeUri `./src` not found")),
        "{missing:?}"
    );
    assert!(
        missing
            .iter()
            .any(|p| p
                .contains("template.yaml: line 9: resource Plain: Code `src/app.py` not found")),
        "{missing:?}"
    );
}

#[test]
fn only_local_paths_of_known_properties_are_artifacts() {
    let dir = tree();
    let mut found: Vec<(String, String)> = find(&doc(dir.path()))
        .into_iter()
        .map(|l| (l.resource, l.path))
        .collect();
    found.sort();
    assert_eq!(
        found,
        [
            ("Api".to_string(), "./api.yaml".to_string()),
            ("Child".to_string(), "./nested.yaml".to_string()),
            ("Fn".to_string(), "./src".to_string()),
            ("Plain".to_string(), "src/app.py".to_string()),
        ],
        "the s3:// one is left alone"
    );
}

#[test]
fn the_same_folder_zips_to_the_same_bytes_whatever_its_times() {
    let dir = tree();
    let first = zip_deterministic(&dir.path().join("src")).unwrap();
    // Touch every file: new modification times, same contents.
    std::thread::sleep(std::time::Duration::from_millis(20));
    std::fs::write(
        dir.path().join("src/app.py"),
        "def handler(event, context):\n    return 1\n",
    )
    .unwrap();
    let again = zip_deterministic(&dir.path().join("src")).unwrap();
    assert_eq!(sha256_hex(&first), sha256_hex(&again));
    std::fs::write(dir.path().join("src/app.py"), "changed\n").unwrap();
    let changed = zip_deterministic(&dir.path().join("src")).unwrap();
    assert_ne!(sha256_hex(&first), sha256_hex(&changed));
    // Entries keep their folders, with forward slashes.
    let archive = zip::ZipArchive::new(std::io::Cursor::new(first)).unwrap();
    let mut names: Vec<String> = archive
        .file_names()
        .map(|n| n.unwrap().into_owned())
        .collect();
    names.sort();
    assert_eq!(names, ["app.py", "lib/util.py"]);
}

#[tokio::test]
async fn every_artifact_is_uploaded_by_content_and_the_template_points_there() {
    let dir = tree();
    let fake = FakeCfn::new();
    let template = dir.path().join("template.yaml");
    let packaged = package(
        &fake,
        "us-east-1",
        Some("bkt"),
        &template,
        &doc(dir.path()),
        None,
    )
    .await
    .unwrap();
    let body: Value = serde_json::from_str(&packaged.body.unwrap()).unwrap();
    let code_uri = body["Resources"]["Fn"]["Properties"]["CodeUri"]
        .as_str()
        .unwrap();
    assert!(code_uri.starts_with("s3://bkt/cfdeploy/artifacts/") && code_uri.ends_with(".zip"));
    let code = &body["Resources"]["Plain"]["Properties"]["Code"];
    assert_eq!(code["S3Bucket"], "bkt");
    assert!(code["S3Key"].as_str().unwrap().ends_with(".zip"));
    assert_eq!(
        body["Resources"]["Remote"]["Properties"]["CodeUri"],
        "s3://elsewhere/code.zip"
    );
    let nested_url = body["Resources"]["Child"]["Properties"]["TemplateURL"]
        .as_str()
        .unwrap();
    assert!(nested_url.starts_with("https://bkt.s3.us-east-1.amazonaws.com/cfdeploy/artifacts/"));
    // The nested template's own code was packaged too, and named by where it is.
    assert!(packaged
        .artifacts
        .iter()
        .any(|a| a.resource == "Child/Inner" && a.property == "CodeUri"));
    assert_eq!(packaged.artifacts.len(), 5);
    assert!(packaged.artifacts.iter().all(|a| a.changed), "a new stack");
    // ./src is packaged twice (Fn and Child/Inner) but stored once.
    let uploads = fake.uploads();
    assert_eq!(uploads.len(), 4, "{uploads:?}");
}

#[tokio::test]
async fn an_unchanged_folder_is_no_change_against_the_deployed_template() {
    let dir = tree();
    let fake = FakeCfn::new();
    let template = dir.path().join("template.yaml");
    let first = package(
        &fake,
        "us-east-1",
        Some("bkt"),
        &template,
        &doc(dir.path()),
        None,
    )
    .await
    .unwrap();
    let deployed: Value = serde_json::from_str(first.body.as_deref().unwrap()).unwrap();
    std::fs::write(dir.path().join("api.yaml"), "openapi: 3.1.0\n").unwrap();
    let second = package(
        &fake,
        "us-east-1",
        Some("bkt"),
        &template,
        &doc(dir.path()),
        Some(&deployed),
    )
    .await
    .unwrap();
    let changed: Vec<&str> = second
        .artifacts
        .iter()
        .filter(|a| a.changed)
        .map(|a| a.resource.as_str())
        .collect();
    assert_eq!(changed, ["Api"]);
}

#[tokio::test]
async fn a_local_path_without_a_bucket_or_that_is_missing_is_a_clear_error() {
    let dir = tree();
    let fake = FakeCfn::new();
    let template = dir.path().join("template.yaml");
    let err = package(&fake, "us-east-1", None, &template, &doc(dir.path()), None)
        .await
        .unwrap_err()
        .to_string();
    assert!(err.contains("set `template_bucket`"), "{err}");
    std::fs::remove_file(dir.path().join("api.yaml")).unwrap();
    let err = package(
        &fake,
        "us-east-1",
        Some("b"),
        &template,
        &doc(dir.path()),
        None,
    )
    .await
    .unwrap_err()
    .to_string();
    assert!(
        err.contains("resource Api: DefinitionUri `./api.yaml` not found"),
        "{err}"
    );
}

#[test]
fn a_template_without_local_paths_is_not_touched() {
    let doc = json!({"Resources": {"Q": {"Type": "AWS::SQS::Queue"}}});
    assert!(find(&doc).is_empty());
}
