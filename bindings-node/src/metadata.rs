//! The practice's metadata policy: which host fields reach Stripe, under which keys,
//! and how they are rendered. Field and target names are the core's words.

use std::collections::BTreeMap;

use billbridge::domain::metadata::{
    Field, FieldValues, MetadataPolicy as CorePolicy, MetadataTarget, PracticeSecret,
};
use napi::bindgen_prelude::*;
use napi_derive::napi;

use crate::convert::word;
use crate::errors::OrThrow;

/// One field name or several.
pub type Fields = Either<String, Vec<String>>;

fn names(fields: Fields) -> Vec<String> {
    match fields {
        Either::A(name) => vec![name],
        Either::B(names) => names,
    }
}

fn field(env: &Env, name: &str) -> Result<Field> {
    name.parse::<Field>().or_throw(env)
}

/// Options of `MetadataPolicy.render`.
#[napi(object, object_to_js = false)]
pub struct RenderOptions {
    /// Keys to add as they are (the host's own metadata).
    pub extra: Option<BTreeMap<String, String>>,
}

/// The practice's rules for turning host fields into Stripe metadata. Immutable:
/// methods return a new policy. The practice secret never appears in `toString()`.
#[napi]
#[derive(Clone, Default)]
pub struct MetadataPolicy(pub(crate) CorePolicy);

#[napi]
impl MetadataPolicy {
    /// The default policy (the same as `heroCompatible()`).
    #[napi(constructor, catch_unwind)]
    pub fn new() -> Self {
        MetadataPolicy(CorePolicy::default())
    }

    /// The preset matching the keys practice-management products already use.
    #[napi(factory, catch_unwind)]
    pub fn hero_compatible() -> Self {
        MetadataPolicy(CorePolicy::hero_compatible())
    }

    /// Host ids only, no personal data.
    #[napi(factory, catch_unwind)]
    pub fn minimal() -> Self {
        MetadataPolicy(CorePolicy::minimal())
    }

    /// The policy with these fields switched off: `without("patient_gender")` or
    /// `without(["patient_gender", "patient_date_of_birth"])`; an unknown field name
    /// throws `ValidationError` (`unknown_metadata_field`).
    #[napi(catch_unwind)]
    pub fn without(&self, env: &Env, fields: Fields) -> Result<MetadataPolicy> {
        self.0
            .clone()
            .without_all(names(fields))
            .map(MetadataPolicy)
            .or_throw(env)
    }

    /// The policy with these fields switched on.
    #[napi(catch_unwind)]
    pub fn with_fields(&self, env: &Env, fields: Fields) -> Result<MetadataPolicy> {
        let mut policy = self.0.clone();
        for name in names(fields) {
            policy = policy.with(field(env, &name)?);
        }
        Ok(MetadataPolicy(policy))
    }

    /// The policy writing `field` under `key` on `target` (`"customer"` or `"invoice"`).
    #[napi(catch_unwind)]
    pub fn with_key(
        &self,
        env: &Env,
        field: String,
        target: String,
        key: String,
    ) -> Result<MetadataPolicy> {
        let field = self::field(env, &field)?;
        let target = word::<MetadataTarget>(env, &target)?;
        Ok(MetadataPolicy(self.0.clone().key(field, target, key)))
    }

    /// The policy with a practice secret for pseudonymised fields (at least 16 bytes,
    /// as a `Buffer` or a string).
    #[napi(catch_unwind)]
    pub fn with_pseudonym_secret(
        &self,
        env: &Env,
        secret: Either<Uint8Array, String>,
    ) -> Result<MetadataPolicy> {
        let bytes = match secret {
            Either::A(bytes) => bytes.to_vec(),
            Either::B(text) => text.into_bytes(),
        };
        let secret = PracticeSecret::new(bytes).or_throw(env)?;
        Ok(MetadataPolicy(self.0.clone().pseudonym_secret(secret)))
    }

    /// Checks the policy; throws `ValidationError`.
    #[napi(catch_unwind)]
    pub fn validate(&self, env: &Env) -> Result<()> {
        self.0.validate().or_throw(env)
    }

    /// Names of the switched-on fields.
    #[napi(getter, catch_unwind)]
    pub fn enabled_fields(&self) -> Vec<&'static str> {
        self.0
            .enabled_fields()
            .into_iter()
            .map(Field::as_str)
            .collect()
    }

    /// Names of the switched-off fields.
    #[napi(getter, catch_unwind)]
    pub fn disabled_fields(&self) -> Vec<&'static str> {
        self.0
            .disabled_fields()
            .into_iter()
            .map(Field::as_str)
            .collect()
    }

    /// Whether `field` is switched on.
    #[napi(catch_unwind)]
    pub fn is_enabled(&self, env: &Env, field: String) -> Result<bool> {
        Ok(self.0.is_enabled(self::field(env, &field)?))
    }

    /// The metadata for one Stripe object from field values keyed by field name:
    /// `render("customer", { patient_name: "Ada Lovelace" })`. Throws
    /// `ValidationError` for values over Stripe's limits.
    #[napi(catch_unwind)]
    pub fn render(
        &self,
        env: &Env,
        target: String,
        values: BTreeMap<String, String>,
        options: Option<RenderOptions>,
    ) -> Result<BTreeMap<String, String>> {
        let target = word::<MetadataTarget>(env, &target)?;
        let mut fields = FieldValues::new();
        for (name, value) in values {
            fields.set(field(env, &name)?, value);
        }
        let extra = options
            .and_then(|options| options.extra)
            .unwrap_or_default()
            .into_iter()
            .collect();
        self.0
            .render_with(target, &fields, &extra)
            .map(|map| map.into_map())
            .or_throw(env)
    }

    /// `MetadataPolicy(enabled: …, pseudonym secret: set|unset)`.
    #[napi(js_name = "toString", catch_unwind)]
    pub fn to_text(&self) -> String {
        let secret = if self.0.has_pseudonym_secret() {
            "set"
        } else {
            "unset"
        };
        format!(
            "MetadataPolicy(enabled: {}, pseudonym secret: {secret})",
            self.enabled_fields().join(", ")
        )
    }
}

/// The names of every metadata field, in render order.
#[napi(catch_unwind)]
pub fn metadata_fields() -> Vec<&'static str> {
    Field::ALL.into_iter().map(Field::as_str).collect()
}
