//! `/deployments`: the team's deployments, kept current by the WebSocket feed (status,
//! versions, new and removed deployments) without reloading.

use hfb_shared::deployments::DeploymentInfo;
use leptos::prelude::*;
use leptos_router::components::A;

use crate::api::deployments;
use crate::api::ws::{WsState, use_live_connection};
use crate::components::card::LoadFailed;
use crate::components::deploy_status::DeployStatusBadge;
use crate::components::empty_state::EmptyState;
use crate::components::icon::{Icon, IconKind};
use crate::components::page_header::PageHeader;
use crate::components::require_auth::RequireAuth;
use crate::components::skeleton::SkeletonLine;
use crate::format;
use crate::pages::deployment::deployment_path;
use crate::pages::{Page, model_path};

/// `/deployments/new`: deploy a model typed in.
pub const NEW_PATH: &str = "/deployments/new";

#[component]
pub fn Deployments() -> impl IntoView {
    view! {
        <RequireAuth>
            <DeploymentList />
        </RequireAuth>
    }
}

#[component]
fn DeploymentList() -> impl IntoView {
    let live = use_live_connection();
    let (list, rows) = deployments::live_list(live);
    let is_live =
        move || live.state.get() == WsState::Live && live.deployments.with(|f| f.team_id.is_some());

    let actions = move || {
        view! {
            <span
                class="live-pill"
                class:live-pill--live=is_live
                class:live-pill--reconnecting=move || !is_live()
                data-testid="deployments-live"
                data-live=move || is_live().to_string()
                title="Status changes arrive over the WebSocket as they happen."
            >
                <span class="live-dot" aria-hidden="true"></span>
                <span class="live-pill-text">{move || if is_live() { "Live" } else { "Connecting…" }}</span>
            </span>
            <A href=NEW_PATH attr:class="button button--primary button--small" attr:data-testid="new-deployment">
                <Icon kind=IconKind::Plus class="button-icon" />
                "New deployment"
            </A>
        }
    };

    view! {
        <div class="page" data-testid="page-deployments">
            <PageHeader
                title=Page::Deployments.title()
                subtitle="Models running for your team, their versions and their state."
                actions=actions
            />
            {move || match (rows.get(), list.get()) {
                (Some(rows), _) if rows.is_empty() => view! { <NoDeployments /> }.into_any(),
                (Some(rows), _) => view! { <DeploymentTable rows=rows /> }.into_any(),
                (None, Some(Err(e))) => {
                    view! { <LoadFailed title="Deployments" error=e retry=move |()| list.refetch() /> }
                        .into_any()
                }
                (None, _) => view! { <TableSkeleton /> }.into_any(),
            }}
        </div>
    }
}

#[component]
fn NoDeployments() -> impl IntoView {
    view! {
        <EmptyState
            icon=Page::Deployments.icon()
            title="No deployments yet"
            message="Pick a model in the catalog and press Deploy: it runs on the built-in CPU runtime in one click, or on Hugging Face Inference Endpoints, Spaces or AWS Lambda when they are configured."
        >
            <div class="empty-state-actions">
                <A href=Page::Catalog.path() attr:class="button button--primary" attr:data-testid="deployments-empty-catalog">
                    <Icon kind=IconKind::Catalog class="button-icon" />
                    "Browse the catalog"
                </A>
            </div>
        </EmptyState>
    }
}

#[component]
fn TableSkeleton() -> impl IntoView {
    view! {
        <section class="card" aria-busy="true" aria-label="Loading the deployments" data-testid="deployments-loading">
            <div class="card-body skeleton-lines">
                {(0..4)
                    .map(|_| {
                        view! {
                            <div class="deploy-skeleton-row">
                                <SkeletonLine width="22%" />
                                <SkeletonLine width="30%" />
                                <SkeletonLine width="14%" />
                                <SkeletonLine width="12%" />
                            </div>
                        }
                    })
                    .collect_view()}
            </div>
        </section>
    }
}

#[component]
fn DeploymentTable(rows: Vec<DeploymentInfo>) -> impl IntoView {
    view! {
        <section class="card">
            <div class="deploy-table-wrap">
                <table class="table table--stack deploy-list" data-testid="deployments-table">
                    <thead>
                        <tr>
                            <th scope="col">"Name"</th>
                            <th scope="col">"Model"</th>
                            <th scope="col">"Target"</th>
                            <th scope="col">"Task"</th>
                            <th scope="col">"Status"</th>
                            <th scope="col" class="num">"Version"</th>
                            <th scope="col">"Updated"</th>
                        </tr>
                    </thead>
                    <tbody>
                        {rows
                            .into_iter()
                            .map(|d| {
                                let status = d.status.clone();
                                let reconciling = d.reconciling;
                                let name = d.name.clone();
                                let model_id = d.model_id.clone();
                                view! {
                                    <tr
                                        data-testid="deployment-row"
                                        data-id=d.id.clone()
                                        data-name=d.name.clone()
                                        class:row--muted=d.desired == "deleted"
                                    >
                                        <td data-label="Name">
                                            <A href=deployment_path(&d.id) attr:class="deploy-name" attr:data-testid="deployment-link">
                                                {name.clone()}
                                            </A>
                                        </td>
                                        <td data-label="Model">
                                            <A href=model_path(&model_id) attr:class="mono small">{model_id.clone()}</A>
                                        </td>
                                        <td data-label="Target">{d.target.label()}</td>
                                        <td data-label="Task" class="mono small">{d.task.clone()}</td>
                                        <td data-label="Status" title=d.status_message.clone()>
                                            <DeployStatusBadge
                                                status=status
                                                reconciling=reconciling
                                                testid="deployment-row-status"
                                            />
                                        </td>
                                        <td data-label="Version" class="num" data-testid="deployment-row-version">
                                            {format!("v{}", d.current_version)}
                                        </td>
                                        <td data-label="Updated" class="small muted" title=d.updated_at.clone()>
                                            {format::relative(&d.updated_at)}
                                        </td>
                                    </tr>
                                }
                            })
                            .collect_view()}
                    </tbody>
                </table>
            </div>
        </section>
    }
}
