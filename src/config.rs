//! Configuration: command-line flags, each with an environment variable.

use std::net::SocketAddr;

use clap::{Parser, ValueEnum};

/// How instances are run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum InstanceBackendKind {
    /// Records with a load model and a built-in HTTP responder; needs nothing installed.
    Simulated,
    /// Real containers through the Docker Engine API.
    Docker,
}

/// Where the virtual clock resumes after a restart with `--state-dir`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ResumeClock {
    /// As if the server had kept running: the saved time plus the real time it was down
    /// (times the saved scale).
    Continue,
    /// From the saved time, as if no time had passed.
    Frozen,
}

/// Updraft: a local AWS emulator for EC2, Auto Scaling, ELB, CloudWatch and SNS, where the
/// scaling loop is real. Point clients at it with `--endpoint-url http://localhost:4566`.
///
/// Logging is configured with RUST_LOG (default `info`), e.g. `RUST_LOG=updraft=debug`.
/// `updraft stress <instance-id> <cpu-percent>` makes a simulated instance busy on a running
/// server; `updraft classroom --students N` starts one server for a room (see --classroom).
#[derive(Debug, Clone, Parser)]
#[command(name = "updraft", version, about, long_about)]
pub struct Config {
    /// Address and port to serve every AWS protocol, the admin API and load balancers on.
    #[arg(long, env = "UPDRAFT_LISTEN", default_value = "127.0.0.1:4566")]
    pub listen: SocketAddr,

    /// Virtual seconds per real second. 60 makes a 5-minute alarm period pass in 5 s;
    /// 0 freezes the clock so that only `POST /_updraft/clock` advances it.
    #[arg(long, env = "UPDRAFT_TIME_SCALE", default_value_t = 1.0, value_parser = parse_scale)]
    pub time_scale: f64,

    /// Virtual seconds a simulated instance takes from `pending` to `running`.
    #[arg(long, env = "UPDRAFT_BOOT_SECONDS", default_value_t = 10.0, value_parser = parse_scale)]
    pub boot_seconds: f64,

    /// Instance backend.
    #[arg(long, env = "UPDRAFT_INSTANCES", value_enum, default_value_t = InstanceBackendKind::Simulated)]
    pub instances: InstanceBackendKind,

    /// Verify SigV4 signatures (off by default, like other emulators). When on, only the keys of
    /// `--credentials` are known (`InvalidClientTokenId` otherwise) and a wrong signature is
    /// `SignatureDoesNotMatch`.
    #[arg(long, env = "UPDRAFT_VERIFY_SIGNATURES", action = clap::ArgAction::SetTrue)]
    pub verify_signatures: bool,

    /// Access keys and their secrets for signature verification, as `KEY:SECRET` pairs
    /// separated by commas.
    #[arg(long, env = "UPDRAFT_CREDENTIALS", default_value = "test:test", value_parser = parse_credentials)]
    pub credentials: Credentials,

    /// Account used when the access key id is not 12 digits.
    #[arg(long, env = "UPDRAFT_DEFAULT_ACCOUNT", default_value = "000000000000", value_parser = parse_account)]
    pub default_account: String,

    /// Region used for unsigned requests.
    #[arg(long, env = "UPDRAFT_DEFAULT_REGION", default_value = "us-east-1")]
    pub default_region: String,

    /// Regions to serve besides the ones DescribeRegions lists (and the default region), comma
    /// separated. A request for any other region is refused as AWS refuses a credential scoped
    /// to a region that does not exist (`SignatureDoesNotMatch`), and keeps nothing.
    #[arg(long, env = "UPDRAFT_REGIONS", value_delimiter = ',', value_parser = parse_region)]
    pub regions: Vec<String>,

    /// Confirm SNS e-mail and HTTP subscriptions at once, without a confirmation message
    /// (for workshops: nobody has to click a link).
    #[arg(long, env = "UPDRAFT_SNS_AUTO_CONFIRM", action = clap::ArgAction::SetTrue)]
    pub sns_auto_confirm: bool,

    /// PEM file of extra certificate authorities trusted for HTTPS subscription endpoints,
    /// on top of the system's (for endpoints with a self-signed or private-CA certificate).
    #[arg(long, env = "UPDRAFT_SNS_HTTPS_CA_FILE")]
    pub sns_https_ca_file: Option<std::path::PathBuf>,

    /// Token the admin endpoints that change the world or read other accounts' data (reset,
    /// clock changes, stress, the SNS inbox) require, as `Authorization: Bearer <token>` or
    /// `X-Updraft-Admin-Token`. Unset: every admin endpoint is open (fine on loopback).
    #[arg(long, env = "UPDRAFT_ADMIN_TOKEN", hide_env_values = true)]
    pub admin_token: Option<String>,

    /// Largest accepted request body, in bytes (after gzip decompression too).
    #[arg(long, env = "UPDRAFT_MAX_BODY_BYTES", default_value_t = 4 * 1024 * 1024)]
    pub max_body_bytes: usize,

    /// Connections open at once on the main port (lowered to the open-file limit minus 256 when
    /// that is smaller). When all are taken, the one that has waited longest for a request is
    /// closed to admit a new one; when all are busy answering, new ones get a prompt 503.
    #[arg(long, env = "UPDRAFT_MAX_CONNECTIONS", default_value_t = 4096)]
    pub max_connections: usize,

    /// Seconds a client gets from the first byte of a request head to its end; the connection
    /// is closed after that.
    #[arg(long, env = "UPDRAFT_HEADER_READ_TIMEOUT", default_value_t = 20.0, value_parser = parse_positive)]
    pub header_read_timeout: f64,

    /// Seconds a client gets from the end of a request head to the end of its body; a body
    /// still unfinished then is answered 400 `RequestTimeout` (as S3 answers) and the connection
    /// closed. On a load balancer: the longest a client may send no byte of a body (or the
    /// load balancer's idle timeout, if shorter), answered 408 as AWS's load balancers do.
    #[arg(long, env = "UPDRAFT_BODY_READ_TIMEOUT", default_value_t = 60.0, value_parser = parse_positive)]
    pub body_read_timeout: f64,

    /// Seconds a keep-alive connection may wait for its next request before it is closed.
    #[arg(long, env = "UPDRAFT_IDLE_TIMEOUT", default_value_t = 60.0, value_parser = parse_positive)]
    pub idle_timeout: f64,

    /// Bytes of unfinished request heads all connections together may hold; the connection
    /// that goes over is closed. (One head is at most 64 KiB; a larger one gets a 431.)
    #[arg(long, env = "UPDRAFT_MAX_HEADER_BYTES_IN_FLIGHT", default_value_t = 16 * 1024 * 1024)]
    pub max_header_bytes_in_flight: usize,

    /// Threads that serve client connections, each with an event loop of its own (as nginx
    /// runs a worker per core); a connection stays on one. Default: one per CPU but one (the
    /// instances and the clients share the machine), 1 to 8. 0 serves them on the main runtime.
    #[arg(long, env = "UPDRAFT_CONNECTION_THREADS", default_value_t = crate::server::lanes::default_count())]
    pub connection_threads: usize,

    /// Also serve every load balancer listener port on 127.0.0.1 (besides the Host header on
    /// the main port).
    #[arg(long, env = "UPDRAFT_LB_LISTENER_PORTS", action = clap::ArgAction::SetTrue)]
    pub lb_listener_ports: bool,

    /// Docker backend: run an AMI as a given image, `ami-…=image:tag`; repeatable (or
    /// comma-separated in the variable). Unmapped AMIs run `updraft/ami:<ami-id>`, a
    /// `localstack-ec2/<name>:<ami-id>` image, or Updraft's own busybox image, in that order.
    #[arg(long = "ami-image", env = "UPDRAFT_AMI_IMAGES", value_delimiter = ',', value_parser = parse_ami_image)]
    pub ami_images: Vec<(String, String)>,

    /// Extra public AMIs every region offers, from a JSON-lines file, one image a line:
    /// `{"id": "ami-12c6146b", "name": "…", "owner": "amazon", "architecture": "x86_64",
    /// "platform": "linux"}` (only `id` is required). For suites written against other
    /// emulators' fixed AMI ids. A line that does not parse stops the start, naming it.
    #[arg(long, env = "UPDRAFT_PUBLIC_AMIS", value_name = "FILE", value_parser = crate::services::ec2::public_amis::load)]
    pub public_amis: Option<crate::services::ec2::public_amis::PublicAmis>,

    /// Docker backend: the static busybox binary Updraft builds its default AMI around
    /// (Debian's busybox-static installs it at /bin/busybox).
    #[arg(long, env = "UPDRAFT_BUSYBOX", default_value = "/bin/busybox")]
    pub busybox: std::path::PathBuf,

    /// Docker backend: leave containers and images in place at shutdown and on terminate
    /// (the next start with the same owner removes them).
    #[arg(long, env = "UPDRAFT_KEEP_CONTAINERS", action = clap::ArgAction::SetTrue)]
    pub keep_containers: bool,

    /// Docker backend: the value of the `updraft.owner` label on this server's containers and
    /// images. A start removes what an earlier run with the same owner left behind; give two
    /// servers sharing one engine different owners.
    #[arg(long, env = "UPDRAFT_DOCKER_OWNER", default_value = "updraft", value_parser = parse_owner)]
    pub docker_owner: String,

    /// Docker backend: instance ports published on 127.0.0.1 on every instance (a free host
    /// port each, see `docker port updraft-<instance-id>`), besides the TCP ports its security
    /// groups let in from address ranges, which are published anyway. Default: none extra.
    #[arg(long, env = "UPDRAFT_DOCKER_PUBLISH_PORTS", value_delimiter = ',')]
    pub docker_publish_ports: Vec<u16>,

    /// Keep every account's resources, the clock and issued keys in DIR: loaded at start,
    /// written within about a second of each change and at shutdown. Unset: nothing is
    /// written. LocalStack's `PERSISTENCE=1` picks a default directory.
    #[arg(long, env = "UPDRAFT_STATE_DIR", value_name = "DIR")]
    pub state_dir: Option<std::path::PathBuf>,

    /// With --state-dir: where the virtual clock resumes, `continue` (the real time the server
    /// was down passes) or `frozen` (from the saved time).
    #[arg(long, env = "UPDRAFT_RESUME_CLOCK", value_enum, default_value_t = ResumeClock::Continue)]
    pub resume_clock: ResumeClock,

    /// With --state-dir: start empty, moving the saved state file aside (never deleted).
    #[arg(long, env = "UPDRAFT_RESET_STATE", action = clap::ArgAction::SetTrue)]
    pub reset_state: bool,

    /// Whether --time-scale was given (else a restored clock keeps its saved scale).
    #[arg(skip)]
    pub time_scale_given: bool,

    /// Docker backend: reach instances at their network addresses, not through the ports
    /// published on 127.0.0.1, and join the VPCs' networks to do so (for Updraft running in a
    /// container).
    #[arg(long, env = "UPDRAFT_DOCKER_BRIDGE_ADDRESSES", action = clap::ArgAction::SetTrue)]
    pub docker_bridge_addresses: bool,

    /// Classroom mode (see `classroom`).
    #[command(flatten)]
    pub classroom: crate::classroom::ClassroomArgs,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], 4566)),
            time_scale: 1.0,
            boot_seconds: 10.0,
            instances: InstanceBackendKind::Simulated,
            verify_signatures: false,
            credentials: Credentials(vec![("test".into(), "test".into())]),
            default_account: "000000000000".into(),
            default_region: "us-east-1".into(),
            regions: Vec::new(),
            max_body_bytes: 4 * 1024 * 1024,
            admin_token: None,
            sns_auto_confirm: false,
            sns_https_ca_file: None,
            lb_listener_ports: false,
            connection_threads: crate::server::lanes::default_count(),
            max_connections: 4096,
            header_read_timeout: 20.0,
            body_read_timeout: 60.0,
            idle_timeout: 60.0,
            max_header_bytes_in_flight: 16 * 1024 * 1024,
            ami_images: Vec::new(),
            public_amis: None,
            busybox: "/bin/busybox".into(),
            keep_containers: false,
            docker_owner: "updraft".into(),
            docker_publish_ports: Vec::new(),
            docker_bridge_addresses: false,
            classroom: Default::default(),
            state_dir: None,
            resume_clock: ResumeClock::Continue,
            reset_state: false,
            time_scale_given: false,
        }
    }
}

impl Config {
    /// The admin token, if one is set (an empty one counts as unset).
    pub fn admin_token(&self) -> Option<&str> {
        self.admin_token.as_deref().filter(|t| !t.is_empty())
    }

    /// Why this configuration must not start, if it must not: listening beyond loopback with
    /// signatures verified says "accounts are kept apart here", and the admin API, open to
    /// anyone who reaches the port, would undo that (everyone's SNS inbox, reset, the clock).
    pub fn startup_problem(&self) -> Option<String> {
        (self.verify_signatures && !self.listen.ip().is_loopback() && self.admin_token().is_none())
            .then(|| {
                format!(
                    "--listen {} is reachable beyond this machine and --verify-signatures keeps \
                     accounts apart, but without --admin-token (UPDRAFT_ADMIN_TOKEN) anyone who \
                     reaches the port could reset the server, move its clock or read every \
                     account's SNS inbox; set an admin token, or listen on 127.0.0.1",
                    self.listen
                )
            })
    }

    /// A warning for a start that is allowed but open: listening beyond loopback without an
    /// admin token and without signatures. Not refused: accounts are not kept apart there
    /// anyway (any key acts in any account), and containers and CI runners listen on 0.0.0.0
    /// by design; but whoever reaches the port may reset the server or move its clock.
    pub fn startup_warning(&self) -> Option<String> {
        (!self.listen.ip().is_loopback() && self.admin_token().is_none()).then(|| {
            format!(
                "--listen {} is reachable beyond this machine and no --admin-token is set: \
                 anyone who reaches the port may reset the server, move its clock or read the \
                 SNS inbox (set --admin-token, or listen on 127.0.0.1)",
                self.listen
            )
        })
    }
}

fn parse_scale(s: &str) -> Result<f64, String> {
    match s.parse::<f64>() {
        Ok(v) if v.is_finite() && v >= 0.0 => Ok(v),
        _ => Err(format!("expected a number >= 0, got {s:?}")),
    }
}

/// A region name as AWS spells them: lowercase letters, digits and dashes.
fn parse_region(s: &str) -> Result<String, String> {
    let s = s.trim();
    let ok = !s.is_empty()
        && s.len() <= 50
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
    if ok {
        Ok(s.to_owned())
    } else {
        Err(format!(
            "a region is lowercase letters, digits and '-' (like eu-west-1), got {s:?}"
        ))
    }
}

fn parse_positive(s: &str) -> Result<f64, String> {
    match s.parse::<f64>() {
        Ok(v) if v.is_finite() && v > 0.0 && v <= 86_400.0 => Ok(v),
        _ => Err(format!("expected seconds > 0 (at most a day), got {s:?}")),
    }
}

impl Config {
    /// LocalStack's `PERSISTENCE=1` without `--state-dir`: keep state in the default
    /// directory (`$XDG_DATA_HOME/updraft/state`, else `~/.local/share/updraft/state`, else
    /// `.updraft-state`). Returns the directory chosen, to be said in the log.
    pub fn apply_localstack_persistence(
        &mut self,
        persistence: Option<&str>,
    ) -> Option<std::path::PathBuf> {
        let on = persistence.is_some_and(|v| matches!(v.trim(), "1" | "true" | "TRUE" | "True"));
        if !on || self.state_dir.is_some() {
            return None;
        }
        let data = std::env::var_os("XDG_DATA_HOME")
            .map(std::path::PathBuf::from)
            .or_else(|| {
                std::env::var_os("HOME").map(|h| std::path::Path::new(&h).join(".local/share"))
            });
        let dir = data.map_or_else(|| ".updraft-state".into(), |d| d.join("updraft/state"));
        self.state_dir = Some(dir.clone());
        Some(dir)
    }

    /// Whether requests for `region` are served: a region DescribeRegions lists, the default
    /// region, or one of `--regions`.
    pub fn knows_region(&self, region: &str) -> bool {
        crate::services::ec2::regions::REGIONS
            .iter()
            .any(|(r, _)| *r == region)
            || self.default_region == region
            || self.regions.iter().any(|r| r == region)
    }
}

/// Access key id → secret pairs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Credentials(pub Vec<(String, String)>);

impl Credentials {
    /// The secret of an access key id.
    pub fn secret(&self, access_key_id: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k == access_key_id)
            .map(|(_, s)| s.as_str())
    }
}

fn parse_credentials(s: &str) -> Result<Credentials, String> {
    s.split(',')
        .filter(|pair| !pair.trim().is_empty())
        .map(|pair| match pair.trim().split_once(':') {
            Some((k, v)) if !k.is_empty() && !v.is_empty() => Ok((k.to_owned(), v.to_owned())),
            _ => Err(format!(
                "credentials are KEY:SECRET pairs separated by commas, got {pair:?}"
            )),
        })
        .collect::<Result<Vec<_>, _>>()
        .map(Credentials)
}

fn parse_ami_image(s: &str) -> Result<(String, String), String> {
    match s.split_once('=') {
        Some((ami, image)) if ami.starts_with("ami-") && !image.trim().is_empty() => {
            Ok((ami.trim().to_owned(), image.trim().to_owned()))
        }
        _ => Err(format!("expected ami-…=image[:tag], got {s:?}")),
    }
}

/// An owner is used in a label value and an image tag: letters, digits, `_`, `.`, `-`.
fn parse_owner(s: &str) -> Result<String, String> {
    let ok = !s.is_empty()
        && s.len() <= 100
        && !s.starts_with(['.', '-'])
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-'));
    if ok {
        Ok(s.to_owned())
    } else {
        Err(format!(
            "an owner is 1-100 letters, digits, '_', '.' or '-' (not first), got {s:?}"
        ))
    }
}

/// The configuration from the command line and the environment. `EC2_VM_MANAGER=docker`
/// (LocalStack's name) selects the Docker backend when neither `--instances` nor
/// `UPDRAFT_INSTANCES` says otherwise.
pub fn from_args<I, T>(args: I, ec2_vm_manager: Option<&str>) -> Result<Config, clap::Error>
where
    I: IntoIterator<Item = T>,
    T: Into<std::ffi::OsString> + Clone,
{
    use clap::{CommandFactory, FromArgMatches, parser::ValueSource};
    let args = args.into_iter().map(Into::into).collect();
    let matches =
        Config::command().try_get_matches_from(crate::classroom::rewrite_subcommand(args))?;
    let mut config = Config::from_arg_matches(&matches)?;
    if matches.value_source("instances") == Some(ValueSource::DefaultValue)
        && ec2_vm_manager.is_some_and(|v| v.trim().eq_ignore_ascii_case("docker"))
    {
        config.instances = InstanceBackendKind::Docker;
    }
    config.time_scale_given = matches
        .value_source("time_scale")
        .is_some_and(|s| s != ValueSource::DefaultValue);
    Ok(config)
}

fn parse_account(s: &str) -> Result<String, String> {
    if s.len() == 12 && s.bytes().all(|b| b.is_ascii_digit()) {
        Ok(s.to_owned())
    } else {
        Err(format!("an account id is 12 digits, got {s:?}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_match_the_documented_ones() {
        let c = Config::try_parse_from(["updraft"]).unwrap();
        assert_eq!(c.listen.to_string(), "127.0.0.1:4566");
        assert_eq!(c.time_scale, 1.0);
        assert_eq!(c.instances, InstanceBackendKind::Simulated);
        assert!(!c.verify_signatures);
        assert!(!c.sns_auto_confirm);
        assert_eq!(c.default_account, "000000000000");
        assert_eq!(c.default_region, "us-east-1");
        assert!(c.knows_region("ap-northeast-2") && !c.knows_region("zz-fake-1"));
        let c = Config::try_parse_from(["updraft", "--regions", "zz-fake-1,local-1"]).unwrap();
        assert!(c.knows_region("zz-fake-1") && c.knows_region("local-1"));
        assert!(Config::try_parse_from(["updraft", "--regions", "Bad Region"]).is_err());
    }

    #[test]
    fn flags_are_validated() {
        assert!(Config::try_parse_from(["updraft", "--time-scale", "-1"]).is_err());
        assert!(Config::try_parse_from(["updraft", "--default-account", "12"]).is_err());
        let c = Config::try_parse_from(["updraft", "--instances", "docker", "--verify-signatures"])
            .unwrap();
        assert_eq!(c.instances, InstanceBackendKind::Docker);
        assert!(c.verify_signatures);
        let c = Config::try_parse_from(["updraft", "--credentials", "AKID:s1,123456789012:s2"])
            .unwrap();
        assert_eq!(c.credentials.secret("123456789012"), Some("s2"));
        assert_eq!(c.credentials.secret("nope"), None);
        assert!(Config::try_parse_from(["updraft", "--credentials", "nocolon"]).is_err());
    }

    #[test]
    fn a_shared_server_with_signatures_needs_an_admin_token() {
        let parse = |args: &[&str]| Config::try_parse_from(args).unwrap();
        assert_eq!(parse(&["updraft"]).startup_problem(), None);
        assert_eq!(
            parse(&["updraft", "--verify-signatures"]).startup_problem(),
            None
        );
        assert_eq!(
            parse(&["updraft", "--listen", "0.0.0.0:4566"]).startup_problem(),
            None
        );
        let shared = parse(&["updraft", "--listen", "0.0.0.0:4566", "--verify-signatures"]);
        assert!(shared.startup_problem().unwrap().contains("--admin-token"));
        let mut with_token = shared.clone();
        with_token.admin_token = Some("t".into());
        assert_eq!(with_token.startup_problem(), None);
        with_token.admin_token = Some(String::new());
        assert!(with_token.startup_problem().is_some());
        let v6 = parse(&["updraft", "--listen", "[::1]:4566", "--verify-signatures"]);
        assert_eq!(v6.startup_problem(), None);
    }

    #[test]
    fn a_shared_server_without_a_token_starts_with_a_warning() {
        let parse = |args: &[&str]| Config::try_parse_from(args).unwrap();
        assert_eq!(parse(&["updraft"]).startup_warning(), None);
        let open = parse(&["updraft", "--listen", "0.0.0.0:4566"]);
        assert!(open.startup_warning().unwrap().contains("--admin-token"));
        assert_eq!(open.startup_problem(), None);
        let with_token = parse(&["updraft", "--listen", "0.0.0.0:4566", "--admin-token", "t"]);
        assert_eq!(with_token.startup_warning(), None);
    }

    #[test]
    fn docker_settings_parse() {
        let c = from_args(
            [
                "updraft",
                "--ami-image",
                "ami-1=nginx:1",
                "--ami-image",
                "ami-2=x/y",
                "--docker-owner",
                "t-1.a",
                "--docker-publish-ports",
                "80,8080",
            ],
            None,
        )
        .unwrap();
        assert_eq!(
            c.ami_images,
            [
                ("ami-1".into(), "nginx:1".into()),
                ("ami-2".into(), "x/y".into())
            ]
        );
        assert_eq!(c.docker_owner, "t-1.a");
        assert_eq!(c.docker_publish_ports, [80, 8080]);
        assert_eq!(c.instances, InstanceBackendKind::Simulated);
        assert!(from_args(["updraft", "--ami-image", "nginx"], None).is_err());
        assert!(from_args(["updraft", "--docker-owner", "a b"], None).is_err());
        let d = from_args(["updraft"], Some("docker")).unwrap();
        assert_eq!(d.instances, InstanceBackendKind::Docker);
        let s = from_args(["updraft", "--instances", "simulated"], Some("docker")).unwrap();
        assert_eq!(s.instances, InstanceBackendKind::Simulated);
        assert_eq!(
            from_args(["updraft"], None).unwrap().docker_publish_ports,
            [] as [u16; 0]
        );
    }
}
