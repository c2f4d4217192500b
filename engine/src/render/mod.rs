//! Diagrams of a process (placeholder: being written).
