//! Route tables and internet gateways, read-only: every VPC has its main route table (a
//! `local` route for the VPC's CIDR; the default VPC adds `0.0.0.0/0` through its internet
//! gateway, as AWS creates it). Subnets use the main table implicitly, so it shows only its
//! main association.

use serde::{Deserialize, Serialize};

use super::errors::Ec2Error;
use super::filters::{self, Filter};
use super::store::Vpc;
use super::views::EmptyList;
use super::{Tag, dry_run_ok, paginate, tag_filter_values, tag_list, with_store};
use crate::context::RequestContext;
use crate::error::ApiError;
use crate::state::AppState;

/// DescribeRouteTables's input.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct DescribeRouteTablesRequest {
    route_table_ids: Vec<String>,
    filters: Vec<Filter>,
    max_results: Option<i64>,
    next_token: Option<String>,
    dry_run: bool,
}

/// (destination, gateway, origin) of a VPC's main table.
fn routes(v: &Vpc) -> Vec<(String, String, &'static str)> {
    let mut routes = vec![(v.cidr.to_string(), "local".to_owned(), "CreateRouteTable")];
    if let Some(igw) = &v.internet_gateway_id {
        routes.push(("0.0.0.0/0".to_owned(), igw.clone(), "CreateRoute"));
    }
    routes
}

/// `RouteTable`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
struct RouteTableOut {
    associations: [AssociationOut; 1],
    propagating_vgws: EmptyList,
    route_table_id: String,
    routes: Vec<RouteOut>,
    tags: Vec<Tag>,
    vpc_id: String,
    owner_id: String,
}

/// `Route`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
struct RouteOut {
    destination_cidr_block: String,
    gateway_id: String,
    origin: &'static str,
    state: &'static str,
}

/// `RouteTableAssociation` (the main one).
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
struct AssociationOut {
    main: bool,
    route_table_association_id: String,
    route_table_id: String,
    association_state: AssociationStateOut,
}

/// `RouteTableAssociationState`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
struct AssociationStateOut {
    state: &'static str,
}

/// `DescribeRouteTablesResult`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct DescribeRouteTablesOut {
    route_tables: Vec<RouteTableOut>,
    next_token: Option<String>,
}

/// DescribeRouteTables.
pub fn describe_route_tables(
    ctx: &RequestContext,
    state: &AppState,
    req: DescribeRouteTablesRequest,
) -> Result<DescribeRouteTablesOut, ApiError> {
    filters::check_names(
        &req.filters,
        &[
            "association.gateway-id",
            "association.route-table-association-id",
            "association.route-table-id",
            "association.subnet-id",
            "association.main",
            "owner-id",
            "route-table-id",
            "route.destination-cidr-block",
            "route.destination-ipv6-cidr-block",
            "route.destination-prefix-list-id",
            "route.egress-only-internet-gateway-id",
            "route.gateway-id",
            "route.instance-id",
            "route.nat-gateway-id",
            "route.transit-gateway-id",
            "route.origin",
            "route.state",
            "route.vpc-peering-connection-id",
            "tag-key",
            "tag-value",
            "vpc-id",
        ],
    )?;
    let account = &ctx.scope.account;
    let list = with_store(ctx, state, |s| {
        if let Some(missing) = req
            .route_table_ids
            .iter()
            .find(|id| !s.vpcs.values().any(|v| &v.main_route_table_id == *id))
        {
            return Err(Ec2Error::InvalidRouteTableIDNotFound
                .with(format!("The routeTable ID '{missing}' does not exist")));
        }
        if req.dry_run {
            return Err(dry_run_ok());
        }
        let list: Vec<RouteTableOut> = s
            .vpcs
            .values()
            .filter(|v| {
                req.route_table_ids.is_empty()
                    || req.route_table_ids.contains(&v.main_route_table_id)
            })
            .filter(|v| {
                let routes = routes(v);
                let tags = s.tags_of(&v.main_route_table_id);
                filters::matches_all(&req.filters, |f| {
                    if let Some(t) = tag_filter_values(tags, f) {
                        return t;
                    }
                    match f {
                        "association.route-table-association-id" => {
                            vec![v.main_association_id.as_str()]
                        }
                        "association.route-table-id" | "route-table-id" => {
                            vec![v.main_route_table_id.as_str()]
                        }
                        "association.main" => vec!["true"],
                        "owner-id" => vec![account.as_str()],
                        "route.destination-cidr-block" => {
                            routes.iter().map(|r| r.0.as_str()).collect()
                        }
                        "route.gateway-id" => routes.iter().map(|r| r.1.as_str()).collect(),
                        "route.origin" => routes.iter().map(|r| r.2).collect(),
                        "route.state" => vec!["active"],
                        "vpc-id" => vec![v.id.as_str()],
                        _ => vec![],
                    }
                })
            })
            .map(|v| RouteTableOut {
                associations: [AssociationOut {
                    main: true,
                    route_table_association_id: v.main_association_id.clone(),
                    route_table_id: v.main_route_table_id.clone(),
                    association_state: AssociationStateOut {
                        state: "associated",
                    },
                }],
                propagating_vgws: EmptyList,
                route_table_id: v.main_route_table_id.clone(),
                routes: routes(v)
                    .into_iter()
                    .map(|(dest, gw, origin)| RouteOut {
                        destination_cidr_block: dest,
                        gateway_id: gw,
                        origin,
                        state: "active",
                    })
                    .collect(),
                tags: tag_list(s.tags_of(&v.main_route_table_id)),
                vpc_id: v.id.clone(),
                owner_id: account.clone(),
            })
            .collect();
        Ok(list)
    })?;
    let (route_tables, next_token) =
        paginate(list, req.max_results, req.next_token.as_deref(), (5, 100))?;
    Ok(DescribeRouteTablesOut {
        route_tables,
        next_token,
    })
}

/// DescribeInternetGateways's input.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct DescribeInternetGatewaysRequest {
    internet_gateway_ids: Vec<String>,
    filters: Vec<Filter>,
    max_results: Option<i64>,
    next_token: Option<String>,
    dry_run: bool,
}

/// `InternetGateway`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
struct InternetGatewayOut {
    attachments: [AttachmentOut; 1],
    internet_gateway_id: String,
    owner_id: String,
    tags: Vec<Tag>,
}

/// `InternetGatewayAttachment`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
struct AttachmentOut {
    state: &'static str,
    vpc_id: String,
}

/// `DescribeInternetGatewaysResult`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct DescribeInternetGatewaysOut {
    internet_gateways: Vec<InternetGatewayOut>,
    next_token: Option<String>,
}

/// DescribeInternetGateways: the default VPC's gateway, attached (`available`, as AWS shows
/// an attached gateway).
pub fn describe_internet_gateways(
    ctx: &RequestContext,
    state: &AppState,
    req: DescribeInternetGatewaysRequest,
) -> Result<DescribeInternetGatewaysOut, ApiError> {
    filters::check_names(
        &req.filters,
        &[
            "attachment.state",
            "attachment.vpc-id",
            "internet-gateway-id",
            "owner-id",
            "tag-key",
            "tag-value",
        ],
    )?;
    let account = &ctx.scope.account;
    let list = with_store(ctx, state, |s| {
        let gateways: Vec<(&str, &Vpc)> = s
            .vpcs
            .values()
            .filter_map(|v| Some((v.internet_gateway_id.as_deref()?, v)))
            .collect();
        if let Some(missing) = req
            .internet_gateway_ids
            .iter()
            .find(|id| !gateways.iter().any(|(g, _)| g == id))
        {
            return Err(Ec2Error::InvalidInternetGatewayIDNotFound
                .with(format!("The internetGateway ID '{missing}' does not exist")));
        }
        if req.dry_run {
            return Err(dry_run_ok());
        }
        let list: Vec<InternetGatewayOut> = gateways
            .into_iter()
            .filter(|(g, _)| {
                req.internet_gateway_ids.is_empty()
                    || req.internet_gateway_ids.iter().any(|id| id == g)
            })
            .filter(|(g, v)| {
                let tags = s.tags_of(g);
                filters::matches_all(&req.filters, |f| {
                    if let Some(t) = tag_filter_values(tags, f) {
                        return t;
                    }
                    match f {
                        "attachment.state" => vec!["available"],
                        "attachment.vpc-id" => vec![v.id.as_str()],
                        "internet-gateway-id" => vec![*g],
                        "owner-id" => vec![account.as_str()],
                        _ => vec![],
                    }
                })
            })
            .map(|(g, v)| InternetGatewayOut {
                attachments: [AttachmentOut {
                    state: "available",
                    vpc_id: v.id.clone(),
                }],
                internet_gateway_id: g.to_owned(),
                owner_id: account.clone(),
                tags: tag_list(s.tags_of(g)),
            })
            .collect();
        Ok(list)
    })?;
    let (internet_gateways, next_token) =
        paginate(list, req.max_results, req.next_token.as_deref(), (5, 1000))?;
    Ok(DescribeInternetGatewaysOut {
        internet_gateways,
        next_token,
    })
}
