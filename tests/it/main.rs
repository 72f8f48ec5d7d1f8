//! Integration tests: the real server on 127.0.0.1:0 through the generated client.
