//! The client: a handle, the streams it hands out, and the task that drives the connection.

use std::cell::RefCell;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll};

use futures::channel::mpsc::{unbounded, UnboundedReceiver, UnboundedSender};
use futures::{Stream, StreamExt};

use crate::dispatch::{Dispatcher, Filter};
use crate::transport::eventsource::NativeEventSource;
use crate::transport::{TransportEvent, TransportKind};
use crate::{Error, Event};

/// Builds a [`Client`]; start with [`Client::builder`].
#[derive(Debug, Clone)]
#[must_use = "a builder does nothing until `.connect()`"]
pub struct ClientBuilder {
    url: String,
    with_credentials: bool,
    event_types: Vec<String>,
}

impl ClientBuilder {
    /// Send cookies and HTTP authentication with cross-origin requests, like
    /// [`EventSource.withCredentials`](https://developer.mozilla.org/en-US/docs/Web/API/EventSource/withCredentials).
    /// Default: `false`.
    pub fn with_credentials(mut self, yes: bool) -> Self {
        self.with_credentials = yes;
        self
    }

    /// Event types to listen for from the start, besides `message`. Default: none.
    ///
    /// The browser's `EventSource` only delivers named events to listeners registered for
    /// that name; [`Client::subscribe`] registers its name too, so this is only needed for
    /// events that [`Client::events`] should see before anyone subscribes to them.
    pub fn event_types<I, S>(mut self, names: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.event_types.extend(names.into_iter().map(Into::into));
        self
    }

    /// Opens the connection and returns the client that owns it.
    pub fn connect(self) -> Result<Client, Error> {
        Client::start(self)
    }
}

/// The connection's state, as `EventSource.readyState` names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReadyState {
    /// Connecting or waiting to reconnect.
    Connecting,
    /// Open: events flow.
    Open,
    /// Closed for good.
    Closed,
}

/// What the driving task receives: transport reports and the handle's commands.
enum Input {
    Transport(TransportEvent),
    Subscribe(String),
    Close,
}

struct Shared {
    dispatcher: Dispatcher,
    ready_state: ReadyState,
}

/// A Server-Sent Events client.
///
/// Dropping the client closes it: the connection is closed, its listeners removed and
/// every stream it handed out ends.
#[must_use = "dropping the client closes the connection"]
pub struct Client {
    url: String,
    shared: Rc<RefCell<Shared>>,
    input: UnboundedSender<Input>,
}

impl Client {
    /// Starts building a client for `url`.
    pub fn builder(url: impl Into<String>) -> ClientBuilder {
        ClientBuilder {
            url: url.into(),
            with_credentials: false,
            event_types: Vec::new(),
        }
    }

    /// Connects to `url` with the default options.
    pub fn connect(url: impl Into<String>) -> Result<Client, Error> {
        Self::builder(url).connect()
    }

    fn start(config: ClientBuilder) -> Result<Client, Error> {
        let (input, inputs) = unbounded();
        let shared = Rc::new(RefCell::new(Shared {
            dispatcher: Dispatcher::default(),
            ready_state: ReadyState::Connecting,
        }));
        let sink = input.clone();
        let (transport_tx, transport_rx) = unbounded();
        let transport = NativeEventSource::open(
            &config.url,
            config.with_credentials,
            &config.event_types,
            transport_tx,
        )?;
        wasm_bindgen_futures::spawn_local(forward(transport_rx, sink));
        wasm_bindgen_futures::spawn_local(run(transport, inputs, Rc::clone(&shared)));
        Ok(Client {
            url: config.url,
            shared,
            input,
        })
    }

    /// The URL this client connects to.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The connection's current state.
    pub fn ready_state(&self) -> ReadyState {
        self.shared.borrow().ready_state
    }

    /// The transport in use.
    pub fn transport(&self) -> TransportKind {
        TransportKind::EventSource
    }

    /// Every event, whatever its type, in arrival order. Ends when the client closes.
    pub fn events(&self) -> EventStream {
        EventStream(self.shared.borrow_mut().dispatcher.subscribe(Filter::All))
    }

    /// The events of one type, in arrival order. Ends when the client closes.
    pub fn subscribe(&self, event_type: impl Into<String>) -> EventStream {
        let name = event_type.into();
        self.listen_for(&name);
        EventStream(
            self.shared
                .borrow_mut()
                .dispatcher
                .subscribe(Filter::Type(name)),
        )
    }

    /// Makes sure events of type `name` reach [`events`](Self::events) (the browser's
    /// `EventSource` delivers named events only to listeners registered for the name).
    pub(crate) fn listen_for(&self, name: &str) {
        let _ = self.input.unbounded_send(Input::Subscribe(name.to_owned()));
    }

    /// Closes the connection for good and ends every stream.
    pub fn close(&self) {
        let _ = self.input.unbounded_send(Input::Close);
        let mut shared = self.shared.borrow_mut();
        shared.ready_state = ReadyState::Closed;
        shared.dispatcher.close();
    }
}

impl Drop for Client {
    fn drop(&mut self) {
        self.close();
    }
}

async fn forward(mut from: UnboundedReceiver<TransportEvent>, to: UnboundedSender<Input>) {
    while let Some(event) = from.next().await {
        if to.unbounded_send(Input::Transport(event)).is_err() {
            break;
        }
    }
}

async fn run(
    mut transport: NativeEventSource,
    mut inputs: UnboundedReceiver<Input>,
    shared: Rc<RefCell<Shared>>,
) {
    while let Some(input) = inputs.next().await {
        match input {
            Input::Transport(TransportEvent::Open) => {
                shared.borrow_mut().ready_state = ReadyState::Open;
            }
            Input::Transport(TransportEvent::Event(event)) => {
                shared.borrow_mut().dispatcher.dispatch(&event);
            }
            Input::Transport(TransportEvent::Error) => {
                shared.borrow_mut().ready_state = ReadyState::Connecting;
            }
            Input::Transport(TransportEvent::Closed) | Input::Close => break,
            Input::Subscribe(name) => transport.add_event_type(&name),
        }
    }
    drop(transport);
    let mut shared = shared.borrow_mut();
    shared.ready_state = ReadyState::Closed;
    shared.dispatcher.close();
}

/// A stream of [`Event`]s from a [`Client`]; ends (`None`) when the client closes.
#[must_use = "streams do nothing unless polled"]
#[derive(Debug)]
pub struct EventStream(UnboundedReceiver<Event>);

impl Stream for EventStream {
    type Item = Event;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Event>> {
        self.0.poll_next_unpin(cx)
    }
}
