//! The TEL debug adapter: DAP over stdio or TCP, on the time-travel navigator
