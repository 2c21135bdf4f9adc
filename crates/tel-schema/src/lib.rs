//! Schema diff, evolution rules, automatic state migration and safe states
