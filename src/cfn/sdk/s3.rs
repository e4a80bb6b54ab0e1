//! S3 for templates too large to send inline and for packaged artifacts: content-addressed
//! objects, put once.

use std::sync::atomic::Ordering;

use aws_config::Region;

use super::SdkCloudFormation;
use crate::cfn::CfnError;

impl SdkCloudFormation {
    fn s3(&self, region: &str) -> aws_sdk_s3::Client {
        self.calls.fetch_add(1, Ordering::Relaxed);
        tracing::debug!(operation = "PutObject", region, "aws call");
        let mut clients = self.s3_clients.lock().unwrap_or_else(|e| e.into_inner());
        clients
            .entry(region.to_string())
            .or_insert_with(|| {
                // A custom endpoint (an S3-compatible store, the local emulator) has no
                // per-bucket host names: address buckets by path there.
                let conf = aws_sdk_s3::config::Builder::from(&self.config)
                    .region(Region::new(region.to_string()))
                    .force_path_style(self.custom_endpoint)
                    .build();
                aws_sdk_s3::Client::from_conf(conf)
            })
            .clone()
    }

    pub(super) async fn put_once(
        &self,
        region: &str,
        bucket: &str,
        key: &str,
        body: &[u8],
    ) -> Result<String, CfnError> {
        let url = format!("https://{bucket}.s3.{region}.amazonaws.com/{key}");
        let client = self.s3(region);
        // Content-addressed: an object already under the key is this one.
        let stored = self
            .send("HeadObject", region, || {
                client.head_object().bucket(bucket).key(key).send()
            })
            .await
            .is_ok();
        if stored {
            return Ok(url);
        }
        let content_type = if key.ends_with(".zip") {
            "application/zip"
        } else {
            "text/plain; charset=utf-8"
        };
        self.send("PutObject", region, || {
            client
                .put_object()
                .bucket(bucket)
                .key(key)
                .content_type(content_type)
                .body(aws_sdk_s3::primitives::ByteStream::from(body.to_vec()))
                .send()
        })
        .await?;
        Ok(url)
    }
}
