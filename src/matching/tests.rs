//! Unit tests of the engine on a small hand-made catalog.
