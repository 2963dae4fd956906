//! A paged list read as one stream of elements, asking for the next page only once the
//! elements of the last one are consumed.

use std::future::Future;

use futures::{Stream, TryStreamExt, stream};

/// Every element of a paged list: `fetch` turns the state of one page (a first request, a
/// `next` link, a pivot) into that page's elements and the state of the next page, if any.
pub fn flatten_pages<S, T, E, F, Fut>(first: S, fetch: F) -> impl Stream<Item = Result<T, E>>
where
    F: FnMut(S) -> Fut,
    Fut: Future<Output = Result<(Vec<T>, Option<S>), E>>,
{
    stream::try_unfold((Some(first), fetch), |(state, mut fetch)| async move {
        let Some(state) = state else {
            return Ok(None);
        };
        let (elements, next) = fetch(state).await?;
        Ok(Some((
            stream::iter(elements.into_iter().map(Ok)),
            (next, fetch),
        )))
    })
    .try_flatten()
}

#[cfg(test)]
mod tests {
    use std::{
        pin::pin,
        sync::atomic::{AtomicU32, Ordering},
    };

    use futures::StreamExt;

    use super::*;

    #[tokio::test]
    async fn pages_are_fetched_as_they_are_consumed() {
        let fetched = AtomicU32::new(0);
        let s = flatten_pages(0u32, |page| {
            fetched.fetch_add(1, Ordering::Relaxed);
            async move {
                let next = (page < 2).then_some(page + 1);
                Ok::<_, String>((vec![page * 10, page * 10 + 1], next))
            }
        });
        let mut s = pin!(s);
        assert_eq!(s.next().await, Some(Ok(0)));
        assert_eq!(fetched.load(Ordering::Relaxed), 1);
        let rest: Vec<_> = s.collect().await;
        assert_eq!(rest, [1, 10, 11, 20, 21].map(Ok::<u32, String>).to_vec());
        assert_eq!(fetched.load(Ordering::Relaxed), 3);
    }

    #[tokio::test]
    async fn an_error_ends_the_stream() {
        let s = flatten_pages(0u32, |page| async move {
            if page == 1 {
                Err("boom".to_string())
            } else {
                Ok((vec![page], Some(page + 1)))
            }
        });
        let all: Vec<_> = s.collect().await;
        assert_eq!(all, vec![Ok(0), Err("boom".to_string())]);
    }
}
