//! SSE dev server.
