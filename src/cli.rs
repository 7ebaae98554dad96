//! The command line: `serve` (default), `init`, `admin …`, `check-config`, `healthcheck`, `verify`, `backup`,
//! `restore`, `rotate-key`.

use std::io::{BufRead, IsTerminal, Read, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, bail};
use clap::{Parser, Subcommand};

use crate::app::{self, Application};
use crate::config::{Config, Overrides};
use crate::crypto::{MasterKey, MasterKeySource};
use crate::domain::Role;
use crate::service::{Actor, Service, auth::random_token, ops};
use crate::store::DataPaths;

#[derive(Debug, Parser)]
#[command(name = "herold", version, about = "Privacy-first, self-hosted broadcast server for SMS and Matrix")]
pub struct Cli {
    /// Configuration file (TOML). Default: ./herold.toml if it exists.
    #[arg(long, short = 'c', env = "HEROLD_CONFIG", global = true)]
    pub config: Option<PathBuf>,
    /// Data directory (database, keyring, key file).
    #[arg(long, global = true)]
    pub data_dir: Option<PathBuf>,
    /// Address to listen on, e.g. 127.0.0.1:8080.
    #[arg(long, global = true)]
    pub listen: Option<String>,
    /// Log filter, e.g. info or herold=debug.
    #[arg(long, global = true)]
    pub log: Option<String>,
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the server (the default).
    Serve,
    /// Create the data directory, database, keyring and key file, then exit.
    Init,
    /// Manage admin accounts.
    #[command(subcommand)]
    Admin(AdminCommand),
    /// Check the configuration and print it with secrets redacted.
    CheckConfig,
    /// Exit 0 if the running server answers its health check (for containers and systemd).
    Healthcheck {
        /// The health URL. Default: http://<listen>/healthz
        #[arg(long)]
        url: Option<String>,
    },
    /// Check the database files and the consent ledger's hash chain.
    Verify,
    /// Write an online backup of the data (contacts stay encrypted) or, with --keyring, of the keyring.
    Backup {
        /// The file to write; must not exist.
        file: PathBuf,
        /// Back up the keyring (the data keys) instead of the data.
        #[arg(long)]
        keyring: bool,
    },
    /// Replace the data with a backup and erase again everyone erased since. Stop the server first.
    Restore {
        /// A data backup (from `herold backup` or a scheduled backup).
        file: PathBuf,
        /// Also replace the keyring with this keyring backup (after losing the keyring file).
        #[arg(long)]
        keyring: Option<PathBuf>,
    },
    /// The Matrix bot's account.
    #[command(subcommand)]
    Matrix(MatrixCommand),
    /// Re-wrap every data key under a new master key. Stop the server first.
    RotateKey {
        /// Read the new passphrase from standard input (when the master key comes from a passphrase).
        #[arg(long)]
        new_passphrase_stdin: bool,
    },
}

#[derive(Debug, Subcommand)]
pub enum MatrixCommand {
    /// After the bot's store was lost: sign its new device with the recovery key (read from standard
    /// input), so that strict clients trust it again. Stop the server first.
    Recover,
}

#[derive(Debug, Subcommand)]
pub enum AdminCommand {
    /// Add an admin. The password comes from standard input with --password-stdin, else one is generated and printed.
    Add {
        username: String,
        #[arg(long, default_value = "owner", value_parser = ["owner", "editor", "viewer"])]
        role: String,
        #[arg(long)]
        password_stdin: bool,
    },
    /// Set a new password (ends the admin's sessions).
    Passwd {
        username: String,
        #[arg(long)]
        password_stdin: bool,
    },
    /// List admins.
    List,
    /// Remove an admin (not the last owner).
    Remove { username: String },
}

fn read_stdin_line() -> anyhow::Result<String> {
    let mut line = String::new();
    std::io::stdin().lock().read_line(&mut line).context("reading standard input")?;
    Ok(line.trim_end_matches(['\n', '\r']).to_string())
}

fn password_arg(from_stdin: bool) -> anyhow::Result<(String, bool)> {
    if from_stdin { Ok((read_stdin_line()?, false)) } else { Ok((random_token(18), true)) }
}

/// Parses arguments, runs the command, and maps failures to a message and exit code 1.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    let flags = Overrides { data_dir: cli.data_dir.clone(), listen: cli.listen.clone(), log: cli.log.clone() };
    let cfg = match Config::load(cli.config.as_deref(), &flags) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("herold: {e}");
            return ExitCode::from(2);
        }
    };
    crate::telemetry::init(&cfg.log);
    let runtime = match crate::tuning::runtime() {
        Ok(r) => r,
        Err(e) => {
            eprintln!("herold: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli.command.unwrap_or(Command::Serve), cfg)) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("herold: {e:#}");
            ExitCode::FAILURE
        }
    }
}

async fn run(command: Command, cfg: Config) -> anyhow::Result<ExitCode> {
    match command {
        Command::Serve => serve(cfg).await,
        Command::Init => {
            let _lock = DataLock::take(&cfg)?;
            app::open_service(&cfg, true)?;
            println!("initialised {}", cfg.data_dir.display());
            if matches!(cfg.key_source()?, MasterKeySource::File { .. }) {
                println!("master key: {} — back it up apart from the data", cfg.key_file_path().display());
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Admin(a) => admin(a, &app::open_service(&cfg, false)?).await,
        Command::CheckConfig => {
            cfg.key_source()?;
            print!("{}", cfg.to_toml());
            Ok(ExitCode::SUCCESS)
        }
        Command::Healthcheck { url } => healthcheck(url.unwrap_or_else(|| format!("http://{}/healthz", cfg.listen))),
        Command::Verify => {
            let paths = DataPaths::new(&cfg.data_dir, cfg.key_file.as_deref());
            let r = ops::verify(&paths)?;
            println!(
                "database integrity: {}",
                if r.main_integrity.is_empty() { "ok".into() } else { r.main_integrity.join("; ") }
            );
            println!(
                "keyring integrity: {}",
                if r.keyring_integrity.is_empty() { "ok".into() } else { r.keyring_integrity.join("; ") }
            );
            match &r.ledger_error {
                None => println!("consent ledger: {} events, chain intact", r.ledger_events),
                Some(e) => println!("consent ledger: BROKEN: {e}"),
            }
            match &r.audit_error {
                None => println!("audit log: {} entries, chain intact", r.audit_events),
                Some(e) => println!("audit log: BROKEN: {e}"),
            }
            println!(
                "subscriber totals: {}",
                if r.totals_mismatches.is_empty() {
                    "match the subscriptions".into()
                } else {
                    r.totals_mismatches.join("; ")
                }
            );
            Ok(if r.ok() { ExitCode::SUCCESS } else { ExitCode::FAILURE })
        }
        Command::Backup { file, keyring } => {
            let service = app::open_service(&cfg, false)?;
            service.backup(&file, keyring).await?;
            let what = crate::domain::Message::new(if keyring { "audit-backup-keyring" } else { "audit-backup-data" })
                .stored();
            let name = file.file_name().map(|n| n.to_string_lossy().to_string()).unwrap_or_default();
            service.audit(&Actor::Cli, crate::domain::audit::Action::Backup, name, what).await?;
            println!("wrote {}", file.display());
            Ok(ExitCode::SUCCESS)
        }
        Command::Restore { file, keyring } => {
            let _lock = DataLock::take(&cfg)?;
            let paths = DataPaths::new(&cfg.data_dir, cfg.key_file.as_deref());
            let r = crate::service::backup::restore(&paths, &cfg.key_source()?, &file, keyring.as_deref()).await?;
            println!("restored {}", file.display());
            println!("erasures applied again: {}", r.erased_again);
            if r.keyless > 0 {
                println!(
                    "erased {} subscribers who have no data key in this keyring (erased since, or the keyring \
                     is older than the data): their data could never be read again",
                    r.keyless
                );
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::RotateKey { new_passphrase_stdin } => rotate_key(&cfg, new_passphrase_stdin).await,
        Command::Matrix(MatrixCommand::Recover) => {
            let _lock = DataLock::take(&cfg)?;
            if std::io::stdin().is_terminal() {
                eprintln!("Recovery key (the one the Gateways page showed once):");
            }
            let key = zeroize::Zeroizing::new(read_stdin_line()?);
            let device = app::matrix_recover(&cfg, &key).await?;
            println!("recovered: device {device} is cross-signed again; start herold");
            Ok(ExitCode::SUCCESS)
        }
    }
}

async fn serve(cfg: Config) -> anyhow::Result<ExitCode> {
    let _lock = DataLock::take(&cfg)?;
    let app = Application::build(&cfg).await?;
    tracing::info!(port = app.port(), "herold is listening");
    if let Some(url) = app.setup_url() {
        // Printed to the terminal, not the log: the link creates the first owner and works once.
        println!("No admin account yet. Open this link to create the first owner (works once):\n\n  {url}\n");
        let _ = std::io::stdout().flush();
    }
    app.run_until_stopped().await?;
    Ok(ExitCode::SUCCESS)
}

async fn admin(cmd: AdminCommand, service: &Service) -> anyhow::Result<ExitCode> {
    match cmd {
        AdminCommand::Add { username, role, password_stdin } => {
            let (pw, generated) = password_arg(password_stdin)?;
            let a = service.add_admin(&Actor::Cli, &username, pw.clone(), Role::parse(&role)?).await?;
            println!("added {} ({})", a.username, a.role.as_str());
            if generated {
                println!("password: {pw}");
            }
        }
        AdminCommand::Passwd { username, password_stdin } => {
            let a = service.admin_by_name(&username).await.context("no such admin")?;
            let (pw, generated) = password_arg(password_stdin)?;
            service.set_password(&Actor::Cli, a.id, pw.clone()).await?;
            println!("password changed for {}; their sessions have ended", a.username);
            if generated {
                println!("password: {pw}");
            }
        }
        AdminCommand::List => {
            for a in service.list_admins().await? {
                println!("{}\t{}", a.username, a.role.as_str());
            }
        }
        AdminCommand::Remove { username } => {
            let a = service.admin_by_name(&username).await.context("no such admin")?;
            service.remove_admin(&Actor::Cli, a.id).await?;
            println!("removed {}", a.username);
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// A minimal HTTP/1.0 GET over TCP, so the health check needs nothing else in the container.
fn healthcheck(url: String) -> anyhow::Result<ExitCode> {
    let rest = url.strip_prefix("http://").context("the health URL must start with http://")?;
    let (host, path) = rest.split_once('/').map(|(h, p)| (h, format!("/{p}"))).unwrap_or((rest, "/".into()));
    let addr = std::net::ToSocketAddrs::to_socket_addrs(host)?.next().context("cannot resolve the health URL")?;
    let timeout = std::time::Duration::from_secs(5);
    let mut s = std::net::TcpStream::connect_timeout(&addr, timeout).context("herold is not answering")?;
    s.set_read_timeout(Some(timeout))?;
    write!(s, "GET {path} HTTP/1.0\r\nHost: {host}\r\n\r\n")?;
    let mut resp = String::new();
    s.take(4096).read_to_string(&mut resp)?;
    if resp.starts_with("HTTP/1.1 200") || resp.starts_with("HTTP/1.0 200") {
        println!("healthy");
        Ok(ExitCode::SUCCESS)
    } else {
        println!("unhealthy: {}", resp.lines().next().unwrap_or("no answer"));
        Ok(ExitCode::FAILURE)
    }
}

async fn rotate_key(cfg: &Config, new_passphrase_stdin: bool) -> anyhow::Result<ExitCode> {
    let _lock = DataLock::take(cfg)?;
    let service = app::open_service(cfg, false)?;
    let source = cfg.key_source()?;
    let (new_key, write_file) = match &source {
        MasterKeySource::Passphrase(_) => {
            if !new_passphrase_stdin {
                bail!("the master key comes from a passphrase: give the new one with --new-passphrase-stdin");
            }
            let pass = read_stdin_line()?;
            let paths = DataPaths::new(&cfg.data_dir, cfg.key_file.as_deref());
            let probe = MasterKeySource::Passphrase(zeroize::Zeroizing::new(pass));
            (crate::store::open::master_for(&paths, &probe)?, None)
        }
        MasterKeySource::Hex(_) => (MasterKey::generate(), None),
        MasterKeySource::File { path, .. } => (MasterKey::generate(), Some(path.clone())),
    };
    // Write the new key beside the old one first, so neither is ever lost.
    let staged = write_file.as_ref().map(|p| p.with_extension("key.new"));
    if let Some(s) = &staged {
        if s.exists() {
            bail!(
                "{} exists from an earlier, interrupted rotation; check which key works, then remove it",
                s.display()
            );
        }
        new_key.write_new_file(s)?;
    }
    let n = service.rotate_key(&new_key).await?;
    service.checkpoint().await?;
    match (staged, write_file) {
        (Some(s), Some(p)) => {
            std::fs::rename(&s, &p).with_context(|| format!("moving {} to {}", s.display(), p.display()))?;
            println!("re-wrapped {n} data keys; the new master key is in {}", p.display());
        }
        _ if matches!(source, MasterKeySource::Hex(_)) => {
            println!("re-wrapped {n} data keys. Set HEROLD_MASTER_KEY (or master_key) to this new key now:");
            println!("{}", new_key.to_hex().as_str());
        }
        _ => println!("re-wrapped {n} data keys under the new passphrase"),
    }
    println!("older backups of the keyring still open with the old key: keep or destroy them deliberately");
    Ok(ExitCode::SUCCESS)
}

/// An exclusive lock on the data directory, held by `serve`, `init`, `restore` and `rotate-key`.
struct DataLock(#[allow(dead_code)] std::fs::File);

impl DataLock {
    fn take(cfg: &Config) -> anyhow::Result<Self> {
        std::fs::create_dir_all(&cfg.data_dir).with_context(|| format!("creating {}", cfg.data_dir.display()))?;
        let path = cfg.data_dir.join("herold.lock");
        let f = std::fs::OpenOptions::new().create(true).truncate(false).write(true).open(&path)?;
        match f.try_lock() {
            Ok(()) => Ok(Self(f)),
            Err(_) => {
                bail!(
                    "another herold is using {} (serve, init, restore or rotate-key); stop it first",
                    cfg.data_dir.display()
                )
            }
        }
    }
}
