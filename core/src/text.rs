//! Text helpers shared by the core's own messages and the renderings: a leaf module.

/// Most items [`capped_list`] names.
const LIST_CAP: usize = 10;

/// `items` joined with commas, naming at most ten and counting the rest ("a, b, … and 290
/// more"), so that a message about a large change stays readable.
pub fn capped_list(items: &[String]) -> String {
    match items.len() {
        n if n <= LIST_CAP => items.join(", "),
        n => format!("{} and {} more", items[..LIST_CAP].join(", "), n - LIST_CAP),
    }
}
