//! The one place a core error becomes a JavaScript error. The classes themselves
//! (`BillbridgeError` and one subclass per core [`ErrorCategory`]) are defined by the
//! package's `index.js`, which hands them to [`register_error_classes`] when it loads;
//! every error is then built here as an instance of its category's class, on the JS
//! thread, with the core's stable `code` and `category` and Stripe's details from
//! [`billbridge::Error::details`]. Sync throws and async rejections carry the same
//! object, so `instanceof` and `err.code` work the same for both.

use billbridge::ErrorCategory;
use napi::bindgen_prelude::*;
use napi_derive::napi;

/// Any error the binding turns into a JS error: the core's, or the binding's own
/// failure (a panic, a server that could not bind, a JS value of the wrong type).
#[derive(Debug)]
pub enum BindingError {
    /// An error of the core.
    Core(billbridge::Error),
    /// The binding itself failed, or was handed a value of the wrong JS type.
    Own {
        /// Stable machine code.
        code: &'static str,
        /// The category whose class the error gets.
        category: ErrorCategory,
        /// What happened.
        message: String,
    },
}

impl BindingError {
    /// A value of the wrong JS type (a string where a `Money` was expected, …).
    pub fn wrong_type(message: impl Into<String>) -> Self {
        BindingError::Own {
            code: "invalid_type",
            category: ErrorCategory::Validation,
            message: message.into(),
        }
    }

    /// A failure of the binding, not of the input (a panic, a lost task).
    pub fn internal(code: &'static str, message: impl Into<String>) -> Self {
        BindingError::Own {
            code,
            category: ErrorCategory::Internal,
            message: message.into(),
        }
    }

    /// The stable machine code.
    pub fn code(&self) -> &'static str {
        match self {
            BindingError::Core(error) => error.code(),
            BindingError::Own { code, .. } => code,
        }
    }

    fn category(&self) -> ErrorCategory {
        match self {
            BindingError::Core(error) => error.category(),
            BindingError::Own { category, .. } => *category,
        }
    }
}

impl<E: Into<billbridge::Error>> From<E> for BindingError {
    fn from(error: E) -> Self {
        BindingError::Core(error.into())
    }
}

/// The classes `index.js` registered, kept per JS environment (each worker thread
/// loads its own copy of the addon state).
struct ErrorClasses(ObjectRef<false>);

/// Hands the addon the error classes to build errors with: an object mapping each
/// category (`"validation"`, …) and `"base"` to its class. Called once by `index.js`.
#[napi(js_name = "_registerErrorClasses", catch_unwind)]
pub fn register_error_classes(env: &Env, classes: Object) -> Result<()> {
    let reference = classes.create_ref::<false>()?;
    env.set_instance_data(ErrorClasses(reference), (), |context| {
        // The environment is going away: release the reference while it still can.
        let ErrorClasses(reference) = context.value;
        let _ = reference.unref(&context.env);
    })
}

/// The category names of the core, for the test that each has a class.
#[napi(js_name = "_errorCategories", catch_unwind)]
pub fn error_categories() -> Vec<&'static str> {
    ErrorCategory::ALL
        .iter()
        .map(|category| category.as_str())
        .collect()
}

/// An error class: `new Class(message, fields)`.
type ErrorClass<'env> = Function<'env, FnArgs<(String, Object<'env>)>, Unknown<'env>>;

/// The class of `category`: the registered one, the base class for a category added to
/// the core after `index.js` was written, or `Error` when nothing was registered (the
/// raw loader used without `index.js`).
fn class_of<'env>(env: &'env Env, category: ErrorCategory) -> Result<ErrorClass<'env>> {
    if let Some(ErrorClasses(reference)) = env.get_instance_data::<ErrorClasses>()? {
        let classes = reference.get_value(env)?;
        for name in [category.as_str(), "base"] {
            if let Some(class) = classes.get::<ErrorClass>(name)? {
                return Ok(class);
            }
        }
    }
    env.get_global()?.get_named_property::<ErrorClass>("Error")
}

/// Builds the JS error object for `error`.
fn build<'env>(env: &'env Env, error: &BindingError) -> Result<Unknown<'env>> {
    let category = error.category();
    let message = match error {
        BindingError::Core(error) => error.to_string(),
        BindingError::Own { message, .. } => message.clone(),
    };
    let mut fields = Object::new(env)?;
    fields.set("code", error.code())?;
    fields.set("category", category.as_str())?;
    if let BindingError::Core(core) = error {
        let details = core.details();
        fields.set("status", details.http_status)?;
        fields.set("type", details.stripe_type)?;
        fields.set("stripeCode", details.stripe_code)?;
        fields.set("declineCode", details.decline_code)?;
        fields.set("param", details.param)?;
        fields.set("requestId", details.request_id)?;
        fields.set("docUrl", details.doc_url)?;
        // The class keeps it behind a non-enumerable accessor: Stripe can echo input
        // in it, so it must not reach logs that print the error's own properties.
        fields.set("stripeMessage", core.stripe_message())?;
    }
    let class = class_of(env, category)?;
    let instance = class.new_instance(FnArgs::from((message, fields)))?;
    Ok(instance)
}

/// The JS error for `error`, ready to be thrown or to reject a promise with.
pub fn to_js(env: &Env, error: &BindingError) -> Error {
    match build(env, error) {
        Ok(object) => Error::from(object),
        Err(failure) => failure,
    }
}

/// The JS error object for `error`, for results that carry an error instead of
/// throwing it (one failed invoice among many).
pub fn to_js_value<'env>(env: &'env Env, error: &BindingError) -> Result<Unknown<'env>> {
    build(env, error)
}

/// Turns a core result into a napi result, building the JS error on failure.
pub trait OrThrow<T> {
    /// The value, or the JS error to throw.
    fn or_throw(self, env: &Env) -> Result<T>;
}

impl<T, E: Into<BindingError>> OrThrow<T> for std::result::Result<T, E> {
    fn or_throw(self, env: &Env) -> Result<T> {
        self.map_err(|error| to_js(env, &error.into()))
    }
}
