//! The pool against scripted backends on loopback.

use std::sync::atomic::{AtomicUsize, Ordering};

use tokio::io::{AsyncReadExt, AsyncWriteExt};

use super::*;

/// A backend on 127.0.0.1:0 answering `ok` to every request; with `close_after_each`, it
/// closes each connection after one answer (as a server whose idle timeout ran out would).
/// Counts the connections it accepted.
async fn backend(close_after_each: bool) -> (SocketAddr, Arc<AtomicUsize>) {
    scripted(
        b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok",
        close_after_each,
    )
    .await
}

/// A backend answering `reply` (raw bytes) to every request head.
async fn scripted(reply: &'static [u8], close_after_each: bool) -> (SocketAddr, Arc<AtomicUsize>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let accepted = Arc::new(AtomicUsize::new(0));
    let count = accepted.clone();
    tokio::spawn(async move {
        while let Ok((mut stream, _)) = listener.accept().await {
            count.fetch_add(1, Ordering::SeqCst);
            tokio::spawn(async move {
                let mut buf = Vec::new();
                let mut chunk = [0u8; 1024];
                loop {
                    let Ok(n) = stream.read(&mut chunk).await else {
                        return;
                    };
                    if n == 0 {
                        return;
                    }
                    buf.extend_from_slice(&chunk[..n]);
                    while let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                        buf.drain(..end + 4);
                        if stream.write_all(reply).await.is_err() || close_after_each {
                            return;
                        }
                    }
                }
            });
        }
    });
    (addr, accepted)
}

fn get(headers: &HeaderMap) -> Outgoing<'_> {
    Outgoing {
        method: &Method::GET,
        target: "/",
        headers,
        extra: &[],
        idle_timeout: None,
    }
}

async fn body_of(resp: Response<ProxyBody>) -> Bytes {
    resp.into_body().collect().await.unwrap().to_bytes()
}

#[tokio::test]
async fn a_connection_read_to_the_end_is_reused() {
    let (addr, accepted) = backend(false).await;
    let pool = BackendPool::default();
    for _ in 0..3 {
        let resp = pool
            .send(addr, &get(&HeaderMap::new()), None::<hyper::body::Incoming>)
            .await
            .unwrap();
        assert_eq!(body_of(resp).await, "ok");
    }
    assert_eq!(accepted.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn a_connection_the_backend_closed_while_idle_is_replaced() {
    let (addr, accepted) = backend(true).await;
    let pool = BackendPool::default();
    for _ in 0..3 {
        let resp = pool
            .send(addr, &get(&HeaderMap::new()), None::<hyper::body::Incoming>)
            .await
            .unwrap();
        assert_eq!(body_of(resp).await, "ok");
        // Let the close reach us, so the pooled connection is stale when next taken.
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    assert_eq!(accepted.load(Ordering::SeqCst), 3);
}

#[tokio::test]
async fn a_response_dropped_unread_closes_its_connection() {
    let (addr, accepted) = backend(false).await;
    let pool = BackendPool::default();
    drop(
        pool.send(addr, &get(&HeaderMap::new()), None::<hyper::body::Incoming>)
            .await
            .unwrap(),
    );
    let resp = pool
        .send(addr, &get(&HeaderMap::new()), None::<hyper::body::Incoming>)
        .await
        .unwrap();
    assert_eq!(body_of(resp).await, "ok");
    assert_eq!(accepted.load(Ordering::SeqCst), 2);
}

#[tokio::test]
async fn an_unreachable_backend_is_a_connect_error() {
    // Bound and closed at once: nothing listens there.
    let addr = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    match BackendPool::default()
        .send(addr, &get(&HeaderMap::new()), None::<hyper::body::Incoming>)
        .await
    {
        Err(SendError::Connect(_)) => {}
        other => panic!("expected a connect error, got {other:?}"),
    }
}

/// Send a GET and read the whole response: status and body.
async fn exchange_with(pool: &BackendPool, addr: SocketAddr) -> (u16, Bytes) {
    let resp = pool
        .send(addr, &get(&HeaderMap::new()), None::<hyper::body::Incoming>)
        .await
        .unwrap();
    (resp.status().as_u16(), body_of(resp).await)
}

#[tokio::test]
async fn bodies_framed_by_length_chunks_or_close_arrive_whole() {
    let pool = BackendPool::default();
    let (addr, accepted) = scripted(
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n",
        false,
    )
    .await;
    for _ in 0..2 {
        assert_eq!(
            exchange_with(&pool, addr).await,
            (200, Bytes::from("abcde"))
        );
    }
    // A chunked body read to its last chunk leaves the connection reusable.
    assert_eq!(accepted.load(Ordering::SeqCst), 1);
    let (addr, accepted) = scripted(
        b"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\nuntil the end",
        true,
    )
    .await;
    for _ in 0..2 {
        assert_eq!(
            exchange_with(&pool, addr).await,
            (200, Bytes::from("until the end"))
        );
    }
    // A body delimited by the close cannot leave its connection for another request.
    assert_eq!(accepted.load(Ordering::SeqCst), 2);
}

#[tokio::test]
async fn interim_responses_are_skipped_and_204_has_no_body() {
    let pool = BackendPool::default();
    let (addr, accepted) = scripted(
        b"HTTP/1.1 103 Early Hints\r\nLink: </a.css>\r\n\r\nHTTP/1.1 204 No Content\r\n\r\n",
        false,
    )
    .await;
    for _ in 0..2 {
        assert_eq!(exchange_with(&pool, addr).await, (204, Bytes::new()));
    }
    assert_eq!(accepted.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn a_malformed_answer_is_an_exchange_error() {
    let (addr, _) = scripted(b"SPDY/9 what\r\n\r\n", false).await;
    match BackendPool::default()
        .send(addr, &get(&HeaderMap::new()), None::<hyper::body::Incoming>)
        .await
    {
        Err(SendError::Exchange(_)) => {}
        other => panic!("expected an exchange error, got {other:?}"),
    }
}

#[tokio::test]
async fn a_backend_silent_past_the_idle_timeout_is_an_idle_timeout() {
    // Reads the request and never answers.
    let (addr, _) = scripted(b"", false).await;
    let headers = HeaderMap::new();
    let out = Outgoing {
        idle_timeout: Some(std::time::Duration::from_millis(100)),
        ..get(&headers)
    };
    let started = std::time::Instant::now();
    match BackendPool::default()
        .send(addr, &out, None::<hyper::body::Incoming>)
        .await
    {
        Err(SendError::IdleTimeout) => {}
        other => panic!("expected an idle timeout, got {other:?}"),
    }
    assert!(started.elapsed() >= std::time::Duration::from_millis(100));
}

#[tokio::test]
async fn a_backend_that_hangs_up_without_answering_is_closed() {
    // Reads the request, answers nothing, closes.
    let (addr, _) = scripted(b"", true).await;
    match BackendPool::default()
        .send(addr, &get(&HeaderMap::new()), None::<hyper::body::Incoming>)
        .await
    {
        Err(SendError::Closed(_)) => {}
        other => panic!("expected a closed connection, got {other:?}"),
    }
}
