use super::*;

/// An excerpt shaped like the real sw.js: the revision sits inside an escaped JSON string in a
/// large minified bundle.
const SW_JS_EXCERPT: &str = r#"/*! Copyright (c) 2024 WhatsApp Inc. All Rights Reserved. */
self.__swData=JSON.parse(/*BTDS*/"{\"dynamic_data\":{\"SiteData\":{\"server_revision\":1026131876,\"client_revision\":1026131876,\"push_phase\":\"C3\",\"pkg_cohort\":\"BP:whatsapp_www_pkg\",\"hsi\":\"7518\"}}}");importScripts("https://static.whatsapp.net/rsrc.php/v4/yK/r/abc.js");"#;

#[test]
fn parses_client_revision_from_a_realistic_excerpt() {
    assert_eq!(parse_client_revision(SW_JS_EXCERPT), Some(1_026_131_876));
    assert_eq!(
        parse_client_revision(r#"{"client_revision":42,"x":1}"#),
        Some(42)
    );
    assert_eq!(parse_client_revision(r#""client_revision": 7"#), Some(7));
    assert_eq!(
        parse_client_revision("client_revision_other and no number"),
        None
    );
    assert_eq!(parse_client_revision(""), None);
}

#[test]
fn http_responses_are_checked_and_dechunked() {
    let plain = b"HTTP/1.1 200 OK\r\nContent-Type: text/javascript\r\n\r\nbody";
    assert_eq!(parse_response(plain).unwrap(), b"body");
    let chunked = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n4\r\nclie\r\n7\r\nnt_revi\r\n0\r\n\r\n";
    assert_eq!(parse_response(chunked).unwrap(), b"client_revi");
    assert!(matches!(
        parse_response(b"HTTP/1.1 400 Bad Request\r\n\r\n"),
        Err(VersionError::Status(400))
    ));
}

#[test]
fn urls_parse() {
    let u = parse_url("https://web.whatsapp.com/sw.js").unwrap();
    assert!(u.tls);
    assert_eq!(
        (u.host, u.port, u.path),
        ("web.whatsapp.com", 443, "/sw.js")
    );
    let u = parse_url("http://127.0.0.1:8080").unwrap();
    assert_eq!((u.host, u.port, u.path), ("127.0.0.1", 8080, "/"));
    assert!(parse_url("ftp://x").is_err());
}

struct Fixed(Result<AppVersion, VersionError>);

impl VersionFetcher for Fixed {
    fn fetch<'a>(&'a self, _url: &'a str) -> BoxFuture<'a, Result<AppVersion, VersionError>> {
        let r = self.0.clone();
        Box::pin(async move { r })
    }
}

struct At(u64);
impl Clock for At {
    fn now_ms(&self) -> u64 {
        self.0
    }
}

#[tokio::test(start_paused = true)]
async fn resolution_order_is_override_cache_fetch_fallback() {
    let dir = crate::lock::tests::tempdir();
    let store = Mutex::new(Store::open(&dir).unwrap());
    let v1: AppVersion = "2.3000.1".parse().unwrap();
    let v2: AppVersion = "2.3000.2".parse().unwrap();
    let mut cfg = VersionConfig::default();
    let failing = Fixed(Err(VersionError::NotFound));

    // Nothing known, fetch fails: the compiled-in fallback.
    let got = resolve(&cfg, &store, &failing, &At(0), false).await;
    assert_eq!(got, (cfg.fallback, VersionSource::Fallback));

    // A fetch succeeds and is cached.
    let got = resolve(&cfg, &store, &Fixed(Ok(v1)), &At(1_000), false).await;
    assert_eq!(got, (v1, VersionSource::Fetched));
    let got = resolve(&cfg, &store, &Fixed(Ok(v2)), &At(2_000), false).await;
    assert_eq!(got, (v1, VersionSource::Cached));

    // A forced refresh (after 405) fetches anew.
    let got = resolve(&cfg, &store, &Fixed(Ok(v2)), &At(3_000), true).await;
    assert_eq!(got, (v2, VersionSource::Fetched));

    // After 24 h the cache is stale: fetch; if that fails, the stale cache beats the fallback.
    let day = 24 * 3600 * 1000;
    let got = resolve(&cfg, &store, &failing, &At(3_000 + day), false).await;
    assert_eq!(got, (v2, VersionSource::Cached));

    // The override wins over everything.
    cfg.override_version = Some(v1);
    let got = resolve(&cfg, &store, &Fixed(Ok(v2)), &At(0), true).await;
    assert_eq!(got, (v1, VersionSource::Override));
}

#[tokio::test]
async fn fetches_over_plain_http_from_loopback() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let server = tokio::spawn(async move {
        let (mut s, _) = listener.accept().await.unwrap();
        let mut buf = vec![0u8; 4096];
        let n = s.read(&mut buf).await.unwrap();
        let req = String::from_utf8_lossy(&buf[..n]).to_string();
        let body = SW_JS_EXCERPT;
        let resp = format!(
            "HTTP/1.1 200 OK\r\nContent-Length: {}\r\n\r\n{body}",
            body.len()
        );
        s.write_all(resp.as_bytes()).await.unwrap();
        req
    });
    let fetcher = SwJsFetcher::new().unwrap();
    let v = fetcher
        .fetch(&format!("http://{addr}/sw.js"))
        .await
        .unwrap();
    assert_eq!(v.to_string(), "2.3000.1026131876");
    let req = server.await.unwrap();
    assert!(req.starts_with("GET /sw.js HTTP/1.1\r\n"));
    assert!(req.contains("Sec-Fetch-Site: none"));
    assert!(req.contains("User-Agent: Mozilla/5.0"));
}
