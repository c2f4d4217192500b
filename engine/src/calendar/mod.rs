//! Working-time calendar (placeholder: being written).
