//! Lazy pagers over Stripe's list endpoints (cursor `starting_after` = the last id of the
//! previous page) and search endpoints (cursor `page` = the previous `next_page`).
//!
//! A pager fetches nothing until asked. It stops after [`StripeClient::max_pages`] pages:
//! asking for a page beyond the cap while Stripe still reports more returns
//! [`StripeError::PageCapExceeded`], so a runaway listing fails loudly instead of
//! silently returning a truncated result.

use std::fmt;
use std::marker::PhantomData;

use serde::de::DeserializeOwned;

use super::client::{RequestContext, StripeClient};
use super::error::StripeError;
use super::models::{HasId, List, SearchResult};
use super::transport::Method;

/// Where the next page starts.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Cursor {
    /// No page fetched yet.
    Start,
    /// List endpoints: `starting_after=<id>`.
    StartingAfter(String),
    /// Search endpoints: `page=<token>`.
    Page(String),
    /// No more pages.
    Done,
}

/// Whether the pager walks a list or a search endpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    List,
    Search,
}

/// Walks the pages of a list or search endpoint, one request per page.
pub struct Pager<T> {
    client: StripeClient,
    path: String,
    params: Vec<(String, String)>,
    context: RequestContext,
    kind: Kind,
    cursor: Cursor,
    pages_fetched: u32,
    max_pages: u32,
    item: PhantomData<fn() -> T>,
}

impl<T> fmt::Debug for Pager<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Parameters may hold personal data (an email filter, a search query): not shown.
        f.debug_struct("Pager")
            .field("path", &self.path)
            .field("kind", &self.kind)
            .field("pages_fetched", &self.pages_fetched)
            .field("max_pages", &self.max_pages)
            .finish_non_exhaustive()
    }
}

impl<T: DeserializeOwned + HasId> Pager<T> {
    /// A pager over a list endpoint (`GET path` with `params`, then `starting_after`).
    pub fn list(
        client: &StripeClient,
        path: impl Into<String>,
        params: Vec<(String, String)>,
        context: &RequestContext,
    ) -> Self {
        Self::new(client, path.into(), params, context, Kind::List)
    }

    /// A pager over a search endpoint (`GET path` with `params`, then `page`).
    pub fn search(
        client: &StripeClient,
        path: impl Into<String>,
        params: Vec<(String, String)>,
        context: &RequestContext,
    ) -> Self {
        Self::new(client, path.into(), params, context, Kind::Search)
    }

    fn new(
        client: &StripeClient,
        path: String,
        params: Vec<(String, String)>,
        context: &RequestContext,
        kind: Kind,
    ) -> Self {
        Self {
            client: client.clone(),
            path,
            params,
            context: context.clone(),
            kind,
            cursor: Cursor::Start,
            pages_fetched: 0,
            max_pages: client.max_pages(),
            item: PhantomData,
        }
    }

    /// Replaces the client's page cap for this pager (at least 1).
    pub fn with_max_pages(mut self, max_pages: u32) -> Self {
        self.max_pages = max_pages.max(1);
        self
    }

    /// Pages fetched so far.
    pub fn pages_fetched(&self) -> u32 {
        self.pages_fetched
    }

    /// The next page, or `None` once the last page has been returned. The first page is
    /// returned even when empty.
    ///
    /// # Errors
    /// Any [`StripeError`] of the request; [`StripeError::PageCapExceeded`] when Stripe
    /// reports more pages after the cap was reached. A failed page can be asked for again.
    pub async fn next_page(&mut self) -> Result<Option<Vec<T>>, StripeError> {
        let cursor = match &self.cursor {
            Cursor::Done => return Ok(None),
            Cursor::Start => None,
            Cursor::StartingAfter(id) => Some(("starting_after", id.clone())),
            Cursor::Page(token) => Some(("page", token.clone())),
        };
        if self.pages_fetched >= self.max_pages {
            return Err(StripeError::PageCapExceeded {
                max_pages: self.max_pages,
                path: self.path.clone(),
            });
        }
        let mut params = self.params.clone();
        if let Some((name, value)) = cursor {
            params.retain(|(key, _)| key != name);
            params.push((name.to_owned(), value));
        }
        let (data, next) = match self.kind {
            Kind::List => {
                let page: List<T> = self
                    .client
                    .send(Method::Get, &self.path, params, &self.context)
                    .await?;
                let next = match page.data.last() {
                    Some(last) if page.has_more => Cursor::StartingAfter(last.id().to_owned()),
                    _ => Cursor::Done,
                };
                (page.data, next)
            }
            Kind::Search => {
                let page: SearchResult<T> = self
                    .client
                    .send(Method::Get, &self.path, params, &self.context)
                    .await?;
                let next = match page.next_page {
                    Some(token) if page.has_more && !token.is_empty() => Cursor::Page(token),
                    _ => Cursor::Done,
                };
                (page.data, next)
            }
        };
        self.pages_fetched = self.pages_fetched.saturating_add(1);
        self.cursor = next;
        Ok(Some(data))
    }

    /// Every remaining item, page by page.
    ///
    /// # Errors
    /// As [`Pager::next_page`]; items already fetched are dropped on error.
    pub async fn collect_all(mut self) -> Result<Vec<T>, StripeError> {
        let mut all = Vec::new();
        while let Some(page) = self.next_page().await? {
            all.extend(page);
        }
        Ok(all)
    }
}
