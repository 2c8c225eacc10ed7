//! `Practices`: one deployment's practices by Stripe account, and the webhook router
//! that hands each delivery to the practice of its event's account
//! ([`billbridge::sync::Practices`]).

use billbridge::sync::Practices;
use pyo3::prelude::*;

use crate::bridge::PyBillbridge;
use crate::convert::body;
use crate::errors::raise;
use crate::records::core;
use crate::runtime::{Blocking, Flavour};
use crate::webhooks::PyWebhookOutcome;

/// Practices of one deployment, each a `Billbridge` with its own account.
#[pyclass(name = "Practices", module = "billbridge", frozen)]
pub struct PyPractices(Practices);

#[pymethods]
impl PyPractices {
    /// One practice per bridge; two bridges on one account are refused.
    #[new]
    fn new(bridges: Vec<PyRef<'_, PyBillbridge>>) -> PyResult<Self> {
        let mut practices = Practices::new();
        for bridge in bridges {
            practices.add(bridge.0.clone()).map_err(raise)?;
        }
        Ok(PyPractices(practices))
    }

    /// The practice acting on `account` (`None`: the platform's own account).
    #[pyo3(signature = (account=None))]
    fn get(&self, account: Option<String>) -> PyResult<PyBillbridge> {
        let bridge = self.0.get(account.as_deref()).map_err(raise)?;
        Ok(PyBillbridge(bridge.clone()))
    }

    /// The accounts served, in order (`None` for the platform's own).
    #[getter]
    fn accounts(&self) -> Vec<Option<String>> {
        self.0
            .accounts()
            .map(|account| account.map(str::to_owned))
            .collect()
    }

    /// Handles one webhook delivery with the practice of its event's account: verified
    /// with that practice's secret, claimed once, applied. Blocks, GIL released.
    fn handle_webhook<'py>(
        &self,
        py: Python<'py>,
        payload: &Bound<'py, PyAny>,
        signature_header: Option<String>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let body = body(payload)?.into_owned();
        let practices = self.0.clone();
        Blocking::run(
            py,
            async move {
                core(
                    practices
                        .handle_webhook(&body, signature_header.as_deref())
                        .await,
                )
            },
            PyWebhookOutcome,
        )
    }

    fn __len__(&self) -> usize {
        self.0.len()
    }

    fn __repr__(&self) -> String {
        format!("Practices({:?})", self.accounts())
    }
}

/// Registers the class.
pub fn register(module: &Bound<'_, PyModule>) -> PyResult<()> {
    module.add_class::<PyPractices>()
}
