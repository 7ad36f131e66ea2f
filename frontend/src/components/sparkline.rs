//! A tiny line chart drawn as SVG, for short live series.

use leptos::prelude::*;

const WIDTH: f64 = 300.0;
const HEIGHT: f64 = 60.0;
const PAD: f64 = 4.0;

/// Polyline points for `values` scaled into the chart box; empty below two values.
/// The axis starts at zero (or the lowest negative value) so small wobbles look small.
pub fn points(values: &[f64]) -> String {
    if values.len() < 2 {
        return String::new();
    }
    let min = values.iter().copied().fold(0.0, f64::min);
    let max = values.iter().copied().fold(f64::NEG_INFINITY, f64::max) * 1.15;
    let span = if (max - min).abs() < f64::EPSILON {
        1.0
    } else {
        max - min
    };
    let step = (WIDTH - 2.0 * PAD) / (values.len() - 1) as f64;
    values
        .iter()
        .enumerate()
        .map(|(i, v)| {
            let x = PAD + step * i as f64;
            let y = HEIGHT - PAD - (v - min) / span * (HEIGHT - 2.0 * PAD);
            format!("{x:.1},{y:.1}")
        })
        .collect::<Vec<_>>()
        .join(" ")
}

#[component]
pub fn Sparkline(
    #[prop(into)] values: Signal<Vec<f64>>,
    #[prop(into)] label: String,
) -> impl IntoView {
    view! {
        <svg
            class="sparkline"
            viewBox=format!("0 0 {WIDTH} {HEIGHT}")
            preserveAspectRatio="none"
            role="img"
            aria-label=label
        >
            <polyline
                class="sparkline-line"
                fill="none"
                points=move || values.with(|v| points(v))
            ></polyline>
        </svg>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn points_span_the_box_and_flat_series_stay_inside() {
        assert_eq!(points(&[1.0]), "");
        // The top 15 % is headroom.
        assert_eq!(points(&[0.0, 1.0]), "4.0,56.0 296.0,10.8");
        assert_eq!(points(&[0.0, 0.0]), "4.0,56.0 296.0,56.0");
        // 1000 ms against 1002 ms is a nearly flat line near the top, not a cliff.
        let p = points(&[1000.0, 1002.0]);
        assert_eq!(p, "4.0,10.9 296.0,10.8");
    }
}
