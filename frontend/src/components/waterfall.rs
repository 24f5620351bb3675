//! The timing chart: one row per check that measured network phases, a bar per phase (DNS, TCP, TLS,
//! HTTP, RPC) on a common millisecond axis, like a browser's network waterfall. Drawn as inline SVG;
//! the colours come from the style sheet, so they follow the light or dark scheme.

use migcheck_shared::{Check, Phase, PhaseTiming};
use yew::prelude::*;

use super::class_of;

#[derive(Properties, PartialEq)]
pub struct Props {
    pub checks: Vec<Check>,
}

/// Room for the check ids on the left, the bars, and the axis on top (SVG user units = CSS px).
const LABEL_W: u64 = 210;
const CHART_W: u64 = 520;
const RIGHT_PAD: u64 = 24;
const AXIS_H: u64 = 26;
const ROW_H: u64 = 22;
const BAR_H: u64 = 12;
/// Longer ids are cut (the full id and title are in the row's tooltip).
const LABEL_CHARS: usize = 28;

pub const PHASES: [Phase; 5] = [Phase::Dns, Phase::Tcp, Phase::Tls, Phase::Http, Phase::Rpc];

pub fn phase_name(phase: Phase) -> &'static str {
    match phase {
        Phase::Dns => "dns",
        Phase::Tcp => "tcp",
        Phase::Tls => "tls",
        Phase::Http => "http",
        Phase::Rpc => "rpc",
    }
}

/// Every check with timings, depth first (the tree's order): (id, title, timings).
pub fn rows(checks: &[Check]) -> Vec<(&str, &str, &[PhaseTiming])> {
    fn walk<'a>(checks: &'a [Check], out: &mut Vec<(&'a str, &'a str, &'a [PhaseTiming])>) {
        for check in checks {
            if !check.timings.is_empty() {
                out.push((&check.id, &check.title, &check.timings));
            }
            walk(&check.children, out);
        }
    }
    let mut out = Vec::new();
    walk(checks, &mut out);
    out
}

/// The axis: its end (a multiple of the step, at least the last phase's end) and a round step giving
/// four to ten ticks.
pub fn axis(last_end: u64) -> (u64, u64) {
    let target = last_end.max(1);
    let mut unit = 1;
    loop {
        for step in [unit, unit * 2, unit * 5] {
            if target.div_ceil(step) <= 8 {
                return (target.div_ceil(step).max(1) * step, step);
            }
        }
        unit *= 10;
    }
}

fn cut(id: &str) -> String {
    if id.chars().count() <= LABEL_CHARS {
        return id.to_string();
    }
    let head: String = id.chars().take(LABEL_CHARS - 1).collect();
    format!("{head}…")
}

#[function_component(Waterfall)]
pub fn waterfall(props: &Props) -> Html {
    let rows = rows(&props.checks);
    if rows.is_empty() {
        return html! {};
    }
    let last_end = rows
        .iter()
        .flat_map(|(_, _, t)| t.iter())
        .map(|t| t.start_ms + t.duration_ms)
        .max()
        .unwrap_or(0);
    let (end, step) = axis(last_end);
    let x = |ms: u64| LABEL_W + ms * CHART_W / end;
    let width = LABEL_W + CHART_W + RIGHT_PAD;
    let height = AXIS_H + rows.len() as u64 * ROW_H + 4;
    let used: Vec<Phase> = PHASES
        .into_iter()
        .filter(|p| rows.iter().any(|(_, _, t)| t.iter().any(|t| t.phase == *p)))
        .collect();
    let label = format!(
        "Timing of {} checks over {last_end} ms, one row a check and a bar a network phase",
        rows.len()
    );
    let ticks = (0..=end / step).map(|i| {
        let ms = i * step;
        html! {
            <g class="tick">
                <line class="grid" x1={x(ms).to_string()} x2={x(ms).to_string()} y1={(AXIS_H - 6).to_string()} y2={height.to_string()} />
                <text class="axis" x={x(ms).to_string()} y={(AXIS_H - 10).to_string()} text-anchor="middle">{ format!("{ms} ms") }</text>
            </g>
        }
    });
    let row_views = rows.iter().enumerate().map(|(i, (id, title, timings))| {
        let top = AXIS_H + i as u64 * ROW_H;
        let bars = timings.iter().map(|t| {
            let name = phase_name(t.phase);
            let left = x(t.start_ms);
            let w = (x(t.start_ms + t.duration_ms) - left).max(2);
            html! {
                <rect class={class_of("bar", name)} data-phase={name} x={left.to_string()} y={(top + (ROW_H - BAR_H) / 2).to_string()}
                    width={w.to_string()} height={BAR_H.to_string()} rx="2">
                    <title>{ format!("{id} · {}: {} ms (from {} ms to {} ms)", name.to_ascii_uppercase(), t.duration_ms, t.start_ms, t.start_ms + t.duration_ms) }</title>
                </rect>
            }
        });
        html! {
            <g class="row" data-row-of={id.to_string()}>
                <rect class={if i % 2 == 1 { "stripe odd" } else { "stripe" }} x="0" y={top.to_string()} width={width.to_string()} height={ROW_H.to_string()} />
                <text class="label" x="4" y={(top + ROW_H / 2 + 4).to_string()}>
                    <title>{ format!("{id}: {title}") }</title>
                    { cut(id) }
                </text>
                { for bars }
            </g>
        }
    });
    html! {
        <section id="waterfall" class="waterfall" aria-labelledby="waterfall-title">
            <h2 id="waterfall-title">{ "Timing" }</h2>
            <ul class="legend">
                { for used.iter().map(|p| {
                    let name = phase_name(*p);
                    html! { <li><span class={class_of("swatch", name)} aria-hidden="true"></span>{ name.to_ascii_uppercase() }</li> }
                }) }
            </ul>
            // Focusable, so a keyboard can scroll the chart where it is wider than the screen.
            <div class="waterfall-box" tabindex="0" role="region" aria-label="Timing chart (scrolls sideways)">
                <svg role="img" aria-label={label} width={width.to_string()} height={height.to_string()}
                    viewBox={format!("0 0 {width} {height}")} xmlns="http://www.w3.org/2000/svg">
                    { for row_views }
                    { for ticks }
                </svg>
            </div>
        </section>
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use migcheck_shared::Status;

    fn check(id: &str, timings: Vec<PhaseTiming>, children: Vec<Check>) -> Check {
        Check {
            timings,
            ..super::super::export::tests::check(id, Status::Pass, children)
        }
    }

    fn t(phase: Phase, start_ms: u64, duration_ms: u64) -> PhaseTiming {
        PhaseTiming {
            phase,
            start_ms,
            duration_ms,
        }
    }

    #[test]
    fn one_row_per_timed_check_in_tree_order() {
        let checks = vec![
            check(
                "net",
                vec![],
                vec![
                    check("net.dns", vec![t(Phase::Dns, 0, 3)], vec![]),
                    check("net.tcp", vec![t(Phase::Tcp, 3, 5)], vec![]),
                ],
            ),
            check("tls", vec![t(Phase::Tcp, 8, 2), t(Phase::Tls, 10, 30)], vec![]),
        ];
        let ids: Vec<&str> = rows(&checks).into_iter().map(|(id, _, _)| id).collect();
        assert_eq!(ids, ["net.dns", "net.tcp", "tls"]);
    }

    #[test]
    fn the_axis_ends_on_a_round_number() {
        assert_eq!(axis(0), (1, 1));
        assert_eq!(axis(7), (7, 1));
        assert_eq!(axis(43), (50, 10));
        assert_eq!(axis(1234), (1400, 200));
        assert_eq!(axis(3000), (3000, 500));
        assert_eq!(cut("autodiscover.host.cert.0"), "autodiscover.host.cert.0");
        assert!(cut("autodiscover.redirect_addr.host.cert.10").ends_with('…'));
    }
}
