//! The detector of identifying details, compiled once per round's ID patterns.

use std::rc::Rc;

use candor_protocol::scrub::{Detector, Finding};
use yew::prelude::*;

use crate::services::browser::{BrowserRegex, detector};

/// What [`use_detector`] gives.
#[derive(Clone)]
pub struct DetectorHandle {
    detector: Rc<Option<Detector<BrowserRegex>>>,
}

impl std::fmt::Debug for DetectorHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DetectorHandle").field("available", &self.available()).finish()
    }
}

impl DetectorHandle {
    /// Whether this browser can check texts at all.
    pub fn available(&self) -> bool {
        self.detector.is_some()
    }

    /// The findings in a normalised text.
    pub fn findings(&self, text: &str) -> Vec<Finding> {
        (*self.detector).as_ref().map(|detector| detector.detect(text)).unwrap_or_default()
    }
}

/// The built-in patterns and the organisation's ID patterns, on the browser's RegExp.
#[hook]
pub fn use_detector(id_patterns: Rc<Vec<String>>) -> DetectorHandle {
    let detector = use_memo(id_patterns, |patterns| detector(patterns));
    DetectorHandle { detector }
}
