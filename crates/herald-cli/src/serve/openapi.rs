//! The OpenAPI 3.1 document: paths and schemas come from the handlers' annotations (collected
//! by the router as it registers each route), this adds the title and the two ways to send a
//! key. `GET /openapi.json` serves it; it needs no key, since it holds nothing secret and
//! clients read it before they have one.

use utoipa::openapi::security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::OpenApi as Document;
use utoipa::{Modify, OpenApi};

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Herald",
        description = "Herald's headless daemon (`herald-cli serve`): the WhatsApp link's \
            health, pairing, scheduled messages and events. Every endpoint but /health, \
            /health/ready and /openapi.json needs an API key (`herald-cli api-key create`), \
            sent as `X-API-Key` or `Authorization: Bearer`. Errors are \
            `{\"code\", \"message\", \"advice\"}`.",
        license(name = "MIT OR Apache-2.0"),
    ),
    modifiers(&Security),
    tags(
        (name = "health", description = "Liveness, readiness, memory, metrics"),
        (name = "pairing", description = "Linking to the phone"),
        (name = "connection", description = "Reconnect, logout, history, events"),
        (name = "schedules", description = "Scheduled messages and their sends"),
        (name = "messages", description = "Sending now"),
    ),
)]
pub struct ApiDoc;

struct Security;

impl Modify for Security {
    fn modify(&self, doc: &mut Document) {
        let components = doc.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "api_key",
            SecurityScheme::ApiKey(ApiKey::Header(ApiKeyValue::with_description(
                "X-API-Key",
                "A key from `herald-cli api-key create`",
            ))),
        );
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some("The same key as a bearer token"))
                    .build(),
            ),
        );
    }
}
