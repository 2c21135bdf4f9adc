//! TEL core IR compiled to RV32IM machine code, run on rv-emu
