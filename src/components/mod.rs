//! The widget's components, one per file. Props carry `Callback`s named `on…`.

mod app;
mod delivery;
mod form;
mod privacy_panel;
mod rating_question;
mod text_question;

pub use app::App;
pub use delivery::Delivery;
pub use form::Form;
pub use privacy_panel::PrivacyPanel;
pub use rating_question::RatingQuestion;
pub use text_question::TextQuestion;
