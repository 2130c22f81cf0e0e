import {
  type DBCluster,
  type DBInstance,
  DescribeDBClustersCommand,
  DescribeDBInstancesCommand,
  RDSClient,
} from "@aws-sdk/client-rds";
import { GetSecretValueCommand, SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import type postgres from "postgres";

import type { DestinationResolver, SandboxCredentials } from "./gateway/types.ts";
import { prepareMysqlDatabase } from "./mysql/prepare.ts";
import type { SandboxMariadb } from "./mysql/server.ts";
import { DATABASE_SLOTS, slotAddress } from "./postgres.ts";

export interface RdsMirrorOptions {
  readonly motoUrl: string;
  readonly region: string;
  readonly credentials: SandboxCredentials;
  /** Superuser client of the sandbox PostgreSQL. */
  readonly admin: postgres.Sql;
  /** Where the local PostgreSQL listens. */
  readonly postgresPort: number;
  /**
   * The sandbox MariaDB that plays MySQL databases, started on first use (most sandboxes never see one).
   * @default none: MySQL endpoints are refused like unknown ones
   */
  readonly mysql?: () => Promise<SandboxMariadb>;
  /**
   * Makes the server certificate valid for these endpoint hosts (Aurora cluster names in moto carry a
   * random label). @default none: the certificate is left as it is
   */
  readonly ensureCertificateCovers?: (hosts: readonly string[]) => Promise<void>;
  /** Receives one line per noteworthy event (fallbacks). @default console.error */
  readonly log?: (line: string) => void;
}

/** What a database in moto looks like to the mirror (instance, or Aurora cluster). */
export interface MotoDatabase {
  /** DBInstanceIdentifier or DBClusterIdentifier. */
  readonly identifier: string;
  readonly kind: "instance" | "cluster";
  /** Which local server plays it: MariaDB for mysql/mariadb/aurora-mysql, PostgreSQL otherwise. */
  readonly family: EngineFamily;
  readonly masterUsername: string | undefined;
  readonly masterSecretArn: string | undefined;
  readonly dbName: string | undefined;
  /** Every host:port this database answers on (instance endpoint; cluster writer + reader endpoints). */
  readonly endpoints: readonly string[];
}

export type EngineFamily = "postgres" | "mysql";

/** The server family an RDS engine name belongs to. */
export function engineFamily(engine: string | undefined): EngineFamily {
  return engine === "mysql" || engine === "mariadb" || engine?.startsWith("aurora-mysql")
    ? "mysql"
    : "postgres";
}

const defaultPort = (family: EngineFamily) => (family === "mysql" ? 3306 : 5432);

export interface RdsMirror {
  /** The gateway's DestinationResolver: RDS endpoint of a database in moto → the local PostgreSQL. */
  readonly resolveDestination: DestinationResolver;
  /**
   * True if host:port is the advertised endpoint of a database in moto (the IAM verifier's check), of the
   * given server family when one is named (a token signed for a PostgreSQL endpoint opens no MySQL login).
   */
  isDatabaseEndpoint(host: string, port: number, family?: EngineFamily): Promise<boolean>;
  /**
   * True if host:port is an endpoint of the database dialled from loopback slot `slot` (what an IAM
   * login arriving from that slot's address reached): a token signed for instance A opens no login on
   * instance B although both live in the one sandbox PostgreSQL.
   */
  isEndpointOfSlot(host: string, port: number, slot: number, family?: EngineFamily): Promise<boolean>;
  /** Databases in moto right now. */
  listDatabases(): Promise<MotoDatabase[]>;
}

/** How long a successful endpoint lookup is reused. */
export const LOOKUP_CACHE_MS = 2000;

export class UnknownDestinationError extends Error {}

const key = (host: string, port: number) => `${host.toLowerCase()}:${port}`;

function fromInstance(db: DBInstance): MotoDatabase {
  const family = engineFamily(db.Engine);
  return {
    identifier: db.DBInstanceIdentifier ?? "",
    kind: "instance",
    family,
    masterUsername: db.MasterUsername,
    masterSecretArn: db.MasterUserSecret?.SecretArn,
    dbName: db.DBName,
    endpoints: db.Endpoint?.Address
      ? [key(db.Endpoint.Address, db.Endpoint.Port ?? defaultPort(family))]
      : [],
  };
}

function fromCluster(db: DBCluster): MotoDatabase {
  const family = engineFamily(db.Engine);
  const port = db.Port ?? defaultPort(family);
  return {
    identifier: db.DBClusterIdentifier ?? "",
    kind: "cluster",
    family,
    masterUsername: db.MasterUsername,
    masterSecretArn: db.MasterUserSecret?.SecretArn,
    dbName: db.DatabaseName,
    endpoints: [db.Endpoint, db.ReaderEndpoint].filter((h): h is string => !!h).map((h) => key(h, port)),
  };
}

/**
 * The NOLOGIN roles every RDS PostgreSQL has: `rds_iam` (members log in with IAM tokens, see pg_hba) and
 * `rds_superuser` (granted to the master user). Idempotent.
 */
export async function ensureRdsRoles(sql: postgres.Sql | postgres.TransactionSql): Promise<void> {
  for (const role of ["rds_iam", "rds_superuser"]) {
    const [exists] = await sql`select 1 from pg_roles where rolname = ${role}`;
    if (!exists) await sql`create role ${sql(role)} nologin`;
  }
}

/** Quotes a string literal for utility statements (ALTER ROLE ... PASSWORD) that take no bind parameters. */
function literal(value: string): string {
  return `'${value.replaceAll("'", "''")}'`;
}

function ident(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

/**
 * Makes the local PostgreSQL (MariaDB for MySQL engines) play every RDS database that exists in moto. When the agent emulator dials an
 * RDS endpoint, the mirror looks the database up in moto and — once per database — creates what RDS would
 * have: the master role with the password from the instance's Secrets Manager secret, the database, and
 * the `rds_iam` / `rds_superuser` roles. All databases share the one cluster (see README: deviations).
 */
export function createRdsMirror(opts: RdsMirrorOptions): RdsMirror {
  const log = opts.log ?? ((line: string) => console.error(line));
  const clientConfig = { endpoint: opts.motoUrl, region: opts.region, credentials: opts.credentials };
  const rds = new RDSClient(clientConfig);
  const secrets = new SecretsManagerClient(clientConfig);
  const prepared = new Map<string, Promise<void>>();
  // Database (kind:identifier) → its loopback slot, handed out in the order databases are first dialled.
  const slots = new Map<string, number>();
  function slotOf(db: MotoDatabase): number | undefined {
    const id = `${db.kind}:${db.identifier}`;
    let slot = slots.get(id);
    if (slot === undefined && slots.size < DATABASE_SLOTS) {
      slot = slots.size + 1;
      slots.set(id, slot);
    }
    return slot;
  }
  // DDL for different databases must not interleave (two instances may share a DBName or master user).
  let ddlQueue: Promise<unknown> = Promise.resolve();

  async function listDatabases(): Promise<MotoDatabase[]> {
    const [instances, clusters] = await Promise.all([
      rds.send(new DescribeDBInstancesCommand({})),
      rds.send(new DescribeDBClustersCommand({})),
    ]);
    const clusterList = (clusters.DBClusters ?? []).map(fromCluster);
    const byCluster = new Map(clusterList.map((c) => [c.identifier, c]));
    const instanceList = (instances.DBInstances ?? []).map((raw) => {
      const db = fromInstance(raw);
      // Aurora members keep master user, secret and database name on their cluster.
      const cluster = raw.DBClusterIdentifier ? byCluster.get(raw.DBClusterIdentifier) : undefined;
      return cluster
        ? {
            ...db,
            masterUsername: db.masterUsername ?? cluster.masterUsername,
            masterSecretArn: db.masterSecretArn ?? cluster.masterSecretArn,
            dbName: db.dbName ?? cluster.dbName,
          }
        : db;
    });
    return [...instanceList, ...clusterList];
  }

  // Each dial and each IAM login looks the endpoint up; two moto calls cost ~50 ms on a busy machine, so
  // hits are served from a short-lived list. A miss always asks moto again (a database created a moment
  // ago must resolve at once); a deleted database may still resolve for up to LOOKUP_CACHE_MS.
  let cached: { at: number; all: MotoDatabase[] } | undefined;
  async function find(host: string, port: number): Promise<MotoDatabase | undefined> {
    const wanted = key(host, port);
    const match = (all: MotoDatabase[]) => all.find((d) => d.endpoints.includes(wanted));
    if (cached && Date.now() - cached.at < LOOKUP_CACHE_MS) {
      const hit = match(cached.all);
      if (hit) return hit;
    }
    const all = await listDatabases();
    cached = { at: Date.now(), all };
    return match(all);
  }

  async function masterPassword(db: MotoDatabase): Promise<string | undefined> {
    if (!db.masterSecretArn) return undefined;
    const secret = await secrets.send(new GetSecretValueCommand({ SecretId: db.masterSecretArn }));
    // moto 5.2.1 always writes {"username":"admin","password":"P@55w0rd!"}; RDS writes MasterUsername.
    // The role is named after MasterUsername either way (what the stack outputs), only the password is used.
    const parsed = JSON.parse(secret.SecretString ?? "{}") as { username?: unknown; password?: unknown };
    return typeof parsed.password === "string" ? parsed.password : undefined;
  }

  async function prepare(db: MotoDatabase): Promise<void> {
    if (db.family === "mysql") {
      if (!opts.mysql)
        throw new UnknownDestinationError(`this sandbox plays no MySQL databases (${db.identifier})`);
      const server = await opts.mysql();
      await prepareMysqlDatabase(server, db, await masterPassword(db), log);
      return;
    }
    const sql = opts.admin;
    await opts.ensureCertificateCovers?.(db.endpoints.map((e) => e.slice(0, e.lastIndexOf(":"))));
    const password = await masterPassword(db);
    const master = db.masterUsername;
    await sql.begin(async (tx) => {
      await ensureRdsRoles(tx);
      if (!master) return;
      const [exists] = await tx`select 1 from pg_roles where rolname = ${master}`;
      if (!exists) await tx`create role ${tx(master)} login createrole createdb`;
      if (password) {
        await tx.unsafe(`alter role ${ident(master)} password ${literal(password)}`);
      } else {
        log(
          `dbtunnel sandbox: ${db.identifier} has no managed master secret (ManageMasterUserPassword=false); moto does not return the password, so the master role ${master} has none and can log in with IAM tokens only if granted rds_iam`,
        );
      }
      await tx`grant rds_superuser to ${tx(master)}`;
    });
    if (master && db.dbName) {
      const [exists] = await sql`select 1 from pg_database where datname = ${db.dbName}`;
      // CREATE DATABASE cannot run in a transaction block.
      if (!exists) await sql`create database ${sql(db.dbName)} owner ${sql(master)}`;
    }
  }

  function ensurePrepared(db: MotoDatabase): Promise<void> {
    const id = `${db.kind}:${db.identifier}`;
    let done = prepared.get(id);
    if (!done) {
      done = ddlQueue.then(() => prepare(db));
      ddlQueue = done.catch(() => {});
      prepared.set(id, done);
      // A failed preparation is retried on the next dial instead of being remembered.
      done.catch(() => prepared.delete(id));
    }
    return done;
  }

  return {
    listDatabases,
    async isDatabaseEndpoint(host, port, family) {
      const found = await find(host, port);
      return found !== undefined && (family === undefined || found.family === family);
    },
    async isEndpointOfSlot(host, port, slot, family = "postgres") {
      const found = await find(host, port);
      return (
        found !== undefined &&
        found.family === family &&
        slots.get(`${found.kind}:${found.identifier}`) === slot
      );
    },
    async resolveDestination(host, port) {
      const found = await find(host, port);
      if (!found) {
        throw new UnknownDestinationError(`no database in this account answers at ${host}:${port}`);
      }
      await ensurePrepared(found);
      // Each database is dialled from its own loopback address, so the server's verifier knows which
      // database a login reached (MariaDB hands the address to its plugin, PostgreSQL's pg_hba maps it).
      const slot = slotOf(found);
      const serverPort =
        found.family === "mysql" && opts.mysql ? (await opts.mysql()).port : opts.postgresPort;
      return {
        host: "127.0.0.1",
        port: serverPort,
        ...(slot !== undefined ? { localAddress: slotAddress(slot) } : {}),
      };
    },
  };
}
