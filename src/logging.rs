//! Logs to stderr through `tracing`: compact text, or JSON with `ONECLASS_LOG_FORMAT=json`, and
//! the level from `RUST_LOG`. Read before the settings, whose errors it must be able to log.

pub fn init() {
    use tracing_subscriber::EnvFilter;
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| {
        EnvFilter::new(
            "info,sqlx=warn,deltalake=warn,deltalake_core=warn,datafusion=warn,buoyant_kernel=warn",
        )
    });
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr);
    if std::env::var("ONECLASS_LOG_FORMAT").as_deref() == Ok("json") {
        builder.json().init();
    } else {
        builder.compact().init();
    }
}
