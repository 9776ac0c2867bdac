//! `tokens enable`: lift a suspension made by `tokens disable` (the work is in disable.rs).

use super::Context;
use super::disable::{Switch, switch};
use crate::cli::EnableArgs;
use crate::error::Result;

pub fn run(context: &Context, args: EnableArgs) -> Result<()> {
    switch(context, &args.tokens, Switch::Enable)
}
