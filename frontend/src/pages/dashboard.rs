//! Dashboard: live metrics arrive with the monitoring capability; until then it shows the
//! one live series that already exists, the WebSocket heartbeat stream.

use leptos::prelude::*;

use crate::api::ws::{HISTORY_LEN, use_live_connection};
use crate::components::card::Card;
use crate::components::empty_state::EmptyState;
use crate::components::icon::IconKind;
use crate::components::live_card::LiveConnectionCard;
use crate::components::page_header::PageHeader;
use crate::components::sparkline::Sparkline;
use crate::format;
use crate::pages::Page;

#[component]
pub fn Dashboard() -> impl IntoView {
    let live = use_live_connection();
    // Time between consecutive heartbeats as this browser saw them: network and timer jitter.
    let gaps = Signal::derive(move || {
        live.history.with(|h| {
            h.iter()
                .zip(h.iter().skip(1))
                .map(|(a, b)| b.received_at_ms - a.received_at_ms)
                .collect::<Vec<f64>>()
        })
    });
    let gap_summary = move || {
        gaps.with(|g| {
            if g.is_empty() {
                return "Waiting for heartbeats…".to_owned();
            }
            let mean = g.iter().sum::<f64>() / g.len() as f64;
            let max = g.iter().copied().fold(0.0, f64::max);
            format!(
                "Mean {} · max {} over the last {} heartbeats",
                format::millis(mean),
                format::millis(max),
                g.len() + 1
            )
        })
    };
    let recent = move || {
        live.history
            .with(|h| h.iter().rev().take(8).copied().collect::<Vec<_>>())
    };

    view! {
        <div class="page" data-testid="page-dashboard">
            <PageHeader
                title=Page::Dashboard.title()
                subtitle="Traffic, latency, errors and cost of your deployments."
            />
            <div class="grid grid--2">
                <Card
                    title="Heartbeat stream"
                    icon=IconKind::Pulse
                    testid="heartbeat-stream".to_owned()
                >
                    <p class="card-lead">
                        "Time between heartbeats as received here, last "
                        {HISTORY_LEN.to_string()}
                        "."
                    </p>
                    <Sparkline values=gaps label="Time between heartbeats" />
                    <p class="muted small">{gap_summary}</p>
                    <table class="table table--compact">
                        <thead>
                            <tr>
                                <th scope="col">"Seq"</th>
                                <th scope="col">"Server time"</th>
                                <th scope="col" class="num">
                                    "Connections"
                                </th>
                            </tr>
                        </thead>
                        <tbody>
                            <For each=recent key=|b| b.seq let:beat>
                                <tr>
                                    <td class="mono">{beat.seq}</td>
                                    <td class="mono">
                                        {format::clock_time_ms(beat.server_time_ms as f64)}
                                    </td>
                                    <td class="num">{beat.connections}</td>
                                </tr>
                            </For>
                        </tbody>
                    </table>
                </Card>
                <LiveConnectionCard />
            </div>
            <EmptyState
                icon=IconKind::Dashboard
                title="No traffic to chart yet"
                message="Requests per second, latency percentiles and error rates appear here live once deployments serve inference calls."
                upcoming=&[
                    "Filters by time range, deployment, model, user, team and status",
                    "A request log explorer and usage and cost reports",
                    "Threshold alerts on error rate and latency",
                ]
            />
        </div>
    }
}
