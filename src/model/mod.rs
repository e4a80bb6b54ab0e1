//! The domain model: plain data in CloudFormation's own words, free of SDK types, importing
//! nothing else of cfdeploy's. The AWS adapter (`cfn::sdk`) converts into these at the boundary;
//! renderers and commands only ever see these.

mod change_set;
mod drift;
mod event;
mod outcome;
mod plan;
mod stack;

pub use change_set::*;
pub use drift::*;
pub use event::*;
pub use outcome::*;
pub use plan::*;
pub use stack::*;
