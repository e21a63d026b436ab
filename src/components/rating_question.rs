//! A rating question: one radio group, one tab stop.

use yew::prelude::*;

/// Props of [`RatingQuestion`].
#[derive(Debug, Properties, PartialEq)]
pub struct RatingQuestionProps {
    /// The element id.
    pub id: String,
    /// The question.
    pub prompt: String,
    /// The lowest value.
    pub min: u8,
    /// The highest value.
    pub max: u8,
    /// The value chosen.
    pub value: Option<u8>,
    /// A value was chosen.
    pub on_change: Callback<u8>,
}

/// A rating question.
#[function_component(RatingQuestion)]
pub fn rating_question(props: &RatingQuestionProps) -> Html {
    html! {
        <fieldset class="candor-question candor-rating">
            <legend>{ props.prompt.clone() }</legend>
            { for (props.min..=props.max).map(|value| {
                let id = format!("{}-{value}", props.id);
                let onchange = { let on = props.on_change.clone(); Callback::from(move |_| on.emit(value)) };
                html! {
                    <span class="candor-choice">
                        <input type="radio" id={id.clone()} name={props.id.clone()} value={value.to_string()}
                            checked={props.value == Some(value)} {onchange} />
                        <label for={id}>{ value }</label>
                    </span>
                }
            }) }
        </fieldset>
    }
}
