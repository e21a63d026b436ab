//! The widget's hooks. Each returns a handle struct.

mod use_detector;
mod use_widget;

pub use use_detector::{DetectorHandle, use_detector};
pub use use_widget::{WidgetHandle, use_widget};
