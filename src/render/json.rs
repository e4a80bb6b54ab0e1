//! The JSON plan on stdout: the saved plan's document (`planfile`), pretty-printed.

use std::io::{self, Write};

use crate::mask::Masked;
use crate::model::Plan;
use crate::planfile;

pub fn plan(out: &mut dyn Write, plan: &Masked<Plan>) -> io::Result<()> {
    serde_json::to_writer_pretty(&mut *out, &planfile::document(plan))?;
    writeln!(out)
}
