//! The built front end's files: brotli or gzip when the build precompressed them and the
//! browser takes it, kept a year when their names are hashed, while pages are revalidated.
use crate::common::{spawn_app_with, Backend, TestApp};

fn header<'a>(res: &'a reqwest::Response, name: &str) -> &'a str {
    res.headers().get(name).map(|v| v.to_str().unwrap()).unwrap_or("")
}

/// A site root like `cargo leptos build --release --precompress` writes, with hashed names.
fn built_site() -> tempfile::TempDir {
    let site = tempfile::tempdir().unwrap();
    let pkg = site.path().join("pkg");
    std::fs::create_dir_all(&pkg).unwrap();
    let js = "export function start() { return 'the plain script'; }\n".repeat(40);
    std::fs::write(pkg.join("memory-passport.abc123.js"), &js).unwrap();
    // Not real compressed bytes: the test tells which file answered by its content.
    std::fs::write(pkg.join("memory-passport.abc123.js.br"), b"brotli bytes").unwrap();
    std::fs::write(pkg.join("memory-passport.abc123.js.gz"), b"gzip bytes").unwrap();
    std::fs::write(pkg.join("memory-passport.abc123.css"), "body { color: black; }\n".repeat(40)).unwrap();
    site
}

/// The list of hashed names cargo-leptos writes beside the binary (here: the test's).
fn hash_file_beside_the_binary() {
    let dir = std::env::current_exe().unwrap().parent().unwrap().to_path_buf();
    std::fs::write(dir.join("hash.txt"), "js: abc123\nwasm: abc123\ncss: abc123\n").unwrap();
}

/// A server on `built_site()` with hashed names, as `make run` serves; keep the site while
/// the app runs.
async fn serve_hashed_site() -> (tempfile::TempDir, TestApp) {
    let site = built_site();
    hash_file_beside_the_binary();
    let root = site.path().to_str().unwrap().to_string();
    let app = spawn_app_with(Backend::Sqlite, |c| {
        c.site_root = root;
        c.hash_files = true;
    })
    .await;
    (site, app)
}

#[tokio::test]
async fn hashed_assets_are_served_precompressed_and_kept_a_year() {
    let (_site, app) = serve_hashed_site().await;
    let get = |path: &str, encoding: &str| app.client.get(app.url(path)).header("Accept-Encoding", encoding).send();

    let br = get("/pkg/memory-passport.abc123.js", "br").await.unwrap();
    assert_eq!(br.status(), 200);
    assert_eq!(header(&br, "content-encoding"), "br");
    assert_eq!(header(&br, "cache-control"), "public, max-age=31536000, immutable");
    assert!(header(&br, "vary").to_ascii_lowercase().contains("accept-encoding"));
    assert!(header(&br, "content-type").starts_with("text/javascript") || header(&br, "content-type").contains("javascript"));
    assert_eq!(br.bytes().await.unwrap().as_ref(), b"brotli bytes");

    // A browser that takes both gets brotli; one that takes only gzip gets the gzip file.
    let both = get("/pkg/memory-passport.abc123.js", "gzip, deflate, br").await.unwrap();
    assert_eq!(header(&both, "content-encoding"), "br");
    let gz = get("/pkg/memory-passport.abc123.js", "gzip").await.unwrap();
    assert_eq!(header(&gz, "content-encoding"), "gzip");
    assert_eq!(gz.bytes().await.unwrap().as_ref(), b"gzip bytes");
    let plain = get("/pkg/memory-passport.abc123.js", "identity").await.unwrap();
    assert_eq!(header(&plain, "content-encoding"), "");
    assert!(plain.text().await.unwrap().contains("the plain script"));

    // A file the build did not precompress is compressed on the way out and cached the same.
    let css = get("/pkg/memory-passport.abc123.css", "gzip").await.unwrap();
    assert_eq!(css.status(), 200);
    assert_eq!(header(&css, "content-encoding"), "gzip");
    assert_eq!(header(&css, "cache-control"), "public, max-age=31536000, immutable");

    // A miss is not kept, and a page is revalidated, never immutable.
    let miss = get("/pkg/memory-passport.old999.js", "br").await.unwrap();
    assert_eq!(miss.status(), 404);
    assert!(!header(&miss, "cache-control").contains("immutable"));
    let home = get("/", "br").await.unwrap();
    assert_eq!(home.status(), 200);
    assert_eq!(header(&home, "cache-control"), "no-cache");
    assert_eq!(header(&home, "content-encoding"), "br", "pages are compressed on the way out too");
    // The page links the hashed names.
    let html = get("/", "identity").await.unwrap().text().await.unwrap();
    for name in ["/pkg/memory-passport.abc123.js", "/pkg/memory-passport.abc123.css"] {
        assert!(html.contains(name), "the page links {name}");
    }
    let consent = get("/consent", "br").await.unwrap();
    assert_eq!(header(&consent, "cache-control"), "no-store");
}

#[tokio::test]
async fn unhashed_assets_are_revalidated() {
    let site = built_site();
    std::fs::write(site.path().join("pkg/memory-passport.js"), "export const x = 1;\n".repeat(40)).unwrap();
    let root = site.path().to_str().unwrap().to_string();
    let app = spawn_app_with(Backend::Sqlite, |c| c.site_root = root).await;
    let res = app.client.get(app.url("/pkg/memory-passport.js")).send().await.unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(header(&res, "cache-control"), "no-cache");
    let modified = header(&res, "last-modified").to_string();
    assert!(!modified.is_empty(), "a validator to revalidate with");
    let again = app.client.get(app.url("/pkg/memory-passport.js")).header("If-Modified-Since", modified).send().await.unwrap();
    assert_eq!(again.status(), 304);
}

#[tokio::test]
async fn the_consent_flow_loads_one_small_script_and_no_webassembly() {
    let (_site, app) = serve_hashed_site().await;
    let get = |path: &str, encoding: &str| app.client.get(app.url(path)).header("Accept-Encoding", encoding).send();
    let script_in = |html: &str| {
        let at = html.find("/assets/consent.")?;
        let end = at + html[at..].find('"')?;
        Some(html[at..end].to_string())
    };

    let mut script = None;
    for page in ["/consent", "/complete?status=denied", "/passport/link"] {
        let html = get(page, "identity").await.unwrap().text().await.unwrap();
        assert!(!html.contains("/pkg/memory-passport.abc123.js") && !html.contains(".wasm"), "{page} loads no app script");
        assert!(html.contains("/pkg/memory-passport.abc123.css"), "{page} has the style sheet");
        script = script_in(&html);
        assert!(script.is_some(), "{page} loads the consent script");
    }
    // Every other page hydrates the app, without the consent script.
    for page in ["/", "/manage", "/signin"] {
        let html = get(page, "identity").await.unwrap().text().await.unwrap();
        assert!(html.contains("/pkg/memory-passport.abc123.js"), "{page} loads the app");
        assert!(script_in(&html).is_none(), "{page}");
    }

    // The script: named by its content, kept a year, compressed on the way.
    let script = script.unwrap();
    let res = get(&script, "br").await.unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(header(&res, "cache-control"), "public, max-age=31536000, immutable");
    assert!(header(&res, "content-type").starts_with("text/javascript"));
    assert_eq!(header(&res, "content-encoding"), "br");
    let plain = get(&script, "identity").await.unwrap().text().await.unwrap();
    assert!(plain.contains("data-hydrated") && plain.len() < 8_000, "{} bytes", plain.len());
    // Another name under /assets is nobody's.
    let other = get("/assets/consent.0000000000000000.js", "br").await.unwrap();
    assert_eq!(other.status(), 404);
    assert!(!header(&other, "cache-control").contains("immutable"));
}
