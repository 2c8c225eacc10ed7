//! The practice's metadata policy: which host fields reach Stripe, under which keys,
//! and how they are rendered. Field and target names are the core's words.

use std::collections::BTreeMap;

use billbridge::domain::metadata::{
    Field, FieldValues, MetadataPolicy, MetadataTarget, PracticeSecret,
};
use pyo3::prelude::*;

use crate::convert::Word;
use crate::errors::raise;

fn field(name: &str) -> PyResult<Field> {
    name.parse::<Field>().map_err(raise)
}

/// The practice's rules for turning host fields into Stripe metadata. Methods return
/// a new policy; the practice secret never appears in a `repr`.
#[pyclass(name = "MetadataPolicy", module = "billbridge", frozen)]
#[derive(Clone)]
pub struct PyMetadataPolicy(pub MetadataPolicy);

#[pymethods]
impl PyMetadataPolicy {
    /// The default policy (the same as `hero_compatible()`).
    #[new]
    fn new() -> Self {
        PyMetadataPolicy(MetadataPolicy::default())
    }

    /// The preset matching the keys practice-management products already use.
    #[staticmethod]
    fn hero_compatible() -> Self {
        PyMetadataPolicy(MetadataPolicy::hero_compatible())
    }

    /// Host ids only, no personal data.
    #[staticmethod]
    fn minimal() -> Self {
        PyMetadataPolicy(MetadataPolicy::minimal())
    }

    /// The policy with these fields switched off: `without("patient_gender")`.
    #[pyo3(signature = (*fields))]
    fn without(&self, fields: Vec<String>) -> PyResult<Self> {
        self.0
            .clone()
            .without_all(fields)
            .map(PyMetadataPolicy)
            .map_err(raise)
    }

    /// The policy with these fields switched on.
    #[pyo3(signature = (*fields))]
    fn with_fields(&self, fields: Vec<String>) -> PyResult<Self> {
        let mut policy = self.0.clone();
        for name in fields {
            policy = policy.with(field(&name)?);
        }
        Ok(PyMetadataPolicy(policy))
    }

    /// The policy writing `field` under `key` on `target` (`"customer"` or `"invoice"`).
    fn with_key(&self, field: &str, target: Word<MetadataTarget>, key: &str) -> PyResult<Self> {
        Ok(PyMetadataPolicy(self.0.clone().key(
            self::field(field)?,
            target.0,
            key,
        )))
    }

    /// The policy with a practice secret for pseudonymised fields (≥ 16 bytes).
    fn with_pseudonym_secret(&self, secret: Vec<u8>) -> PyResult<Self> {
        let secret = PracticeSecret::new(secret).map_err(raise)?;
        Ok(PyMetadataPolicy(self.0.clone().pseudonym_secret(secret)))
    }

    /// Checks the policy; raises `ValidationError`.
    fn validate(&self) -> PyResult<()> {
        self.0.validate().map_err(raise)
    }

    /// Names of the switched-on fields.
    #[getter]
    fn enabled_fields(&self) -> Vec<&'static str> {
        self.0
            .enabled_fields()
            .into_iter()
            .map(Field::as_str)
            .collect()
    }

    /// Names of the switched-off fields.
    #[getter]
    fn disabled_fields(&self) -> Vec<&'static str> {
        self.0
            .disabled_fields()
            .into_iter()
            .map(Field::as_str)
            .collect()
    }

    /// Whether `field` is switched on.
    fn is_enabled(&self, field: &str) -> PyResult<bool> {
        Ok(self.0.is_enabled(self::field(field)?))
    }

    /// The metadata for one Stripe object from field values keyed by field name:
    /// `render("customer", {"patient_name": "Ada Lovelace"})`.
    #[pyo3(signature = (target, values, *, extra=None))]
    fn render(
        &self,
        target: Word<MetadataTarget>,
        values: BTreeMap<String, String>,
        extra: Option<BTreeMap<String, String>>,
    ) -> PyResult<BTreeMap<String, String>> {
        let mut fields = FieldValues::new();
        for (name, value) in values {
            fields.set(field(&name)?, value);
        }
        let extra = extra.unwrap_or_default().into_iter().collect();
        self.0
            .render_with(target.0, &fields, &extra)
            .map(|map| map.into_map())
            .map_err(raise)
    }

    fn __repr__(&self) -> String {
        let secret = if self.0.has_pseudonym_secret() {
            "set"
        } else {
            "unset"
        };
        format!(
            "MetadataPolicy(enabled={:?}, pseudonym_secret={secret})",
            self.enabled_fields()
        )
    }
}

/// The names of every metadata field, in render order.
#[pyfunction]
fn metadata_fields() -> Vec<&'static str> {
    Field::ALL.into_iter().map(Field::as_str).collect()
}

/// Registers the metadata policy.
pub fn register(module: &Bound<'_, PyModule>) -> PyResult<()> {
    module.add_class::<PyMetadataPolicy>()?;
    module.add_function(wrap_pyfunction!(metadata_fields, module)?)?;
    Ok(())
}
