// biome-ignore-all lint/suspicious/noTemplateCurlyInString: Terraform JSON fixtures are full of ${...} expressions by design
import { describe, expect, test } from "bun:test";
import { expectCompliant, expectViolation } from "../fixtures/expect-rule.ts";
import { type MutableTf, secureStack, secureStackWith } from "../fixtures/secure-stack.ts";
import { ALL_RULES } from "./index.ts";

/**
 * Every rule against the secure stack (must pass) and against the secure stack with exactly the property it
 * guards broken (must fail on the right resource). The coverage test at the end keeps the table complete.
 */

interface FailingCase {
  readonly name: string;
  readonly change: (tf: MutableTf) => void;
  readonly resource: string | undefined;
  readonly message: RegExp;
}

interface CompliantVariant {
  readonly name: string;
  readonly change: (tf: MutableTf) => void;
}

const JUMP_SG = "${aws_security_group.jumphost.id}";
const R = (tf: MutableTf) => tf.resource;
/** Adds a public subnet routed to an internet gateway (what allowInternetEgress creates for the NAT). */
function addPublicSubnet(tf: MutableTf): void {
  R(tf).aws_subnet.public = { vpc_id: "${aws_vpc.vpc.id}", cidr_block: "10.0.100.0/24" };
  R(tf).aws_internet_gateway = { igw: { vpc_id: "${aws_vpc.vpc.id}" } };
  R(tf).aws_route_table.public = { vpc_id: "${aws_vpc.vpc.id}" };
  R(tf).aws_route = {
    public_default: {
      route_table_id: "${aws_route_table.public.id}",
      destination_cidr_block: "0.0.0.0/0",
      gateway_id: "${aws_internet_gateway.igw.id}",
    },
  };
  R(tf).aws_route_table_association = {
    public: { subnet_id: "${aws_subnet.public.id}", route_table_id: "${aws_route_table.public.id}" },
  };
}

/** A brought-in VPC: VPC and subnets given by id, the jump host and the endpoints in them. */
function broughtInVpc(tf: MutableTf): void {
  const ids = ["subnet-0123abcd", "subnet-4567abcd"];
  R(tf).aws_instance.jumphost.subnet_id = ids[0];
  for (const name of ["ssm", "ssmmessages", "ec2messages", "kms", "logs"]) {
    Object.assign(R(tf).aws_vpc_endpoint[name], { vpc_id: "vpc-0123abcd", subnet_ids: ids });
  }
}

const engineerPolicy = (tf: MutableTf) => JSON.parse(R(tf).aws_iam_policy.engineer.policy);
const setEngineerPolicy = (tf: MutableTf, edit: (doc: MutableTf) => void) => {
  const doc = engineerPolicy(tf);
  edit(doc);
  R(tf).aws_iam_policy.engineer.policy = JSON.stringify(doc);
};
const sessionInputs = (tf: MutableTf, edit: (inputs: MutableTf) => void) => {
  const doc = JSON.parse(R(tf).aws_ssm_document.session_preferences.content);
  edit(doc.inputs);
  R(tf).aws_ssm_document.session_preferences.content = JSON.stringify(doc);
};
const jumpRolePolicy = (tf: MutableTf, statements: unknown[]) => {
  R(tf).aws_iam_role.jumphost.inline_policy[0].policy = JSON.stringify({
    Version: "2012-10-17",
    Statement: statements,
  });
};

function ecsJumpHost(tf: MutableTf): void {
  delete R(tf).aws_instance;
  R(tf).aws_ecs_cluster = { jump: { name: "dbtunnel" } };
  R(tf).aws_ecs_task_definition = {
    jump: {
      family: "dbtunnel-jump",
      network_mode: "awsvpc",
      execution_role_arn: "${aws_iam_role.ecs_execution.arn}",
      task_role_arn: "${aws_iam_role.jumphost.arn}",
      container_definitions: JSON.stringify([
        { name: "agent", image: "public.ecr.aws/amazonlinux/amazonlinux:2023", essential: true },
      ]),
    },
  };
  R(tf).aws_ecs_service = {
    jump: {
      cluster: "${aws_ecs_cluster.jump.id}",
      task_definition: "${aws_ecs_task_definition.jump.arn}",
      enable_execute_command: true,
      network_configuration: {
        subnets: ["${aws_subnet.private_a.id}"],
        security_groups: [JUMP_SG],
        assign_public_ip: false,
      },
      tags: { "dbtunnel:role": "jump-host" },
    },
  };
}

const FAILING: Record<string, FailingCase[]> = {
  "DBT-ARN-1": [
    {
      name: "arn:aws: ARNs in a GovCloud stack",
      change: (tf) => {
        tf.provider.aws[0].region = "us-gov-west-1";
      },
      resource: "aws_iam_policy.engineer",
      message: /names partition aws in us-gov-west-1/,
    },
  ],
  "DBT-INGRESS-1": [
    {
      name: "inline ingress on the jump host group",
      change: (tf) => {
        R(tf).aws_security_group.jumphost.ingress = [
          {
            protocol: "tcp",
            from_port: 22,
            to_port: 22,
            security_groups: ["${aws_security_group.endpoints.id}"],
          },
        ];
      },
      resource: "aws_security_group.jumphost",
      message: /has ingress tcp\/22/,
    },
    {
      name: "aws_security_group_rule of type ingress",
      change: (tf) => {
        R(tf).aws_security_group_rule = {
          ssh: {
            type: "ingress",
            security_group_id: JUMP_SG,
            protocol: "tcp",
            from_port: 22,
            to_port: 22,
            cidr_blocks: ["10.0.0.0/16"],
          },
        };
      },
      resource: "aws_security_group_rule.ssh",
      message: /jump host security group aws_security_group.jumphost/,
    },
    {
      name: "ingress on an ECS jump host's group",
      change: (tf) => {
        ecsJumpHost(tf);
        R(tf).aws_vpc_security_group_ingress_rule.into_task = {
          security_group_id: JUMP_SG,
          referenced_security_group_id: "${aws_security_group.endpoints.id}",
          ip_protocol: "tcp",
          from_port: 8080,
          to_port: 8080,
        };
      },
      resource: "aws_vpc_security_group_ingress_rule.into_task",
      message: /tcp\/8080/,
    },
  ],
  "DBT-INGRESS-2": [
    {
      name: "a public range",
      change: (tf) => {
        R(tf).aws_vpc_security_group_ingress_rule.office = {
          security_group_id: "${aws_security_group.database.id}",
          cidr_ipv4: "203.0.113.0/24",
          ip_protocol: "tcp",
          from_port: 5432,
          to_port: 5432,
        };
      },
      resource: "aws_vpc_security_group_ingress_rule.office",
      message: /203\.0\.113\.0\/24, outside the VPC/,
    },
    {
      name: "::/0 inline",
      change: (tf) => {
        R(tf).aws_security_group.endpoints.ingress = [
          { protocol: "tcp", from_port: 443, to_port: 443, ipv6_cidr_blocks: ["::/0"] },
        ];
      },
      resource: "aws_security_group.endpoints",
      message: /::\/0/,
    },
  ],
  "DBT-INGRESS-3": [
    {
      name: "database admits the endpoint group",
      change: (tf) => {
        R(tf).aws_vpc_security_group_ingress_rule.database_from_jumphost.referenced_security_group_id =
          "${aws_security_group.endpoints.id}";
      },
      resource: "aws_vpc_security_group_ingress_rule.database_from_jumphost",
      message: /only tcp\/5432 from the jump host group/,
    },
    {
      name: "database admits a port range",
      change: (tf) => {
        Object.assign(R(tf).aws_vpc_security_group_ingress_rule.database_from_jumphost, {
          from_port: 5000,
          to_port: 6000,
        });
      },
      resource: "aws_vpc_security_group_ingress_rule.database_from_jumphost",
      message: /tcp\/5000-6000/,
    },
  ],
  "DBT-INGRESS-4": [
    {
      name: "endpoints admit the database group",
      change: (tf) => {
        R(tf).aws_vpc_security_group_ingress_rule.endpoints_from_jumphost.referenced_security_group_id =
          "${aws_security_group.database.id}";
      },
      resource: "aws_vpc_security_group_ingress_rule.endpoints_from_jumphost",
      message: /only tcp\/443 from the jump host group/,
    },
  ],
  "DBT-INGRESS-5": [
    {
      name: "an internet gateway",
      change: (tf) => {
        R(tf).aws_internet_gateway = { igw: { vpc_id: "${aws_vpc.vpc.id}" } };
      },
      resource: "aws_internet_gateway.igw",
      message: /internet gateway/,
    },
    {
      name: "a default route",
      change: (tf) => {
        R(tf).aws_route = {
          out: {
            route_table_id: "${aws_route_table.private.id}",
            destination_cidr_block: "0.0.0.0/0",
            nat_gateway_id: "nat-1",
          },
        };
      },
      resource: "aws_route.out",
      message: /route to 0\.0\.0\.0\/0/,
    },
  ],
  "DBT-INGRESS-6": [
    {
      name: "the deny for 22 removed (the allow-all from the VPC matches first)",
      change: (tf) => {
        R(tf).aws_network_acl.private.ingress.shift();
      },
      resource: "aws_subnet.private_a",
      message: /allows inbound tcp 22/,
    },
    {
      name: "a subnet without a network ACL",
      change: (tf) => {
        R(tf).aws_network_acl.private.subnet_ids = ["${aws_subnet.private_a.id}"];
      },
      resource: "aws_subnet.private_b",
      message: /default ACL allows all/,
    },
  ],
  CKV_AWS_24: [
    {
      name: "SSH from anywhere",
      change: (tf) => {
        R(tf).aws_security_group.jumphost.ingress = [
          { protocol: "tcp", from_port: 22, to_port: 22, cidr_blocks: ["0.0.0.0/0"] },
        ];
      },
      resource: "aws_security_group.jumphost",
      message: /opens 22 to the internet/,
    },
    {
      name: "all traffic from anywhere",
      change: (tf) => {
        R(tf).aws_security_group_rule = {
          all: {
            type: "ingress",
            security_group_id: "${aws_security_group.database.id}",
            protocol: "-1",
            from_port: 0,
            to_port: 0,
            cidr_blocks: ["0.0.0.0/0"],
          },
        };
      },
      resource: "aws_security_group_rule.all",
      message: /all ports/,
    },
  ],
  CKV_AWS_88: [
    {
      name: "public IP on the instance",
      change: (tf) => {
        R(tf).aws_instance.jumphost.associate_public_ip_address = true;
      },
      resource: "aws_instance.jumphost",
      message: /associate_public_ip_address/,
    },
  ],
  CKV_AWS_130: [
    {
      name: "subnet maps public IPs",
      change: (tf) => {
        R(tf).aws_subnet.private_a.map_public_ip_on_launch = true;
      },
      resource: "aws_subnet.private_a",
      message: /public IP/,
    },
  ],
  CKV_AWS_17: [
    {
      name: "public database",
      change: (tf) => {
        R(tf).aws_db_instance.db.publicly_accessible = true;
      },
      resource: "aws_db_instance.db",
      message: /publicly_accessible/,
    },
  ],
  CKV2_AWS_12: [
    {
      name: "default group with a rule",
      change: (tf) => {
        R(tf).aws_default_security_group.default.ingress = [
          { protocol: "-1", from_port: 0, to_port: 0, self: true },
        ];
      },
      resource: "aws_default_security_group.default",
      message: /has 1 rule/,
    },
    {
      name: "default group not adopted",
      change: (tf) => {
        delete R(tf).aws_default_security_group;
      },
      resource: "aws_vpc.vpc",
      message: /not adopted/,
    },
  ],
  CKV_AWS_16: [
    {
      name: "AWS-managed key",
      change: (tf) => {
        delete R(tf).aws_db_instance.db.kms_key_id;
      },
      resource: "aws_db_instance.db",
      message: /AWS-managed key/,
    },
    {
      name: "not encrypted",
      change: (tf) => {
        R(tf).aws_db_instance.db.storage_encrypted = false;
      },
      resource: "aws_db_instance.db",
      message: /storage_encrypted/,
    },
  ],
  CKV_AWS_161: [
    {
      name: "IAM auth off",
      change: (tf) => {
        R(tf).aws_db_instance.db.iam_database_authentication_enabled = false;
      },
      resource: "aws_db_instance.db",
      message: /iam_database_authentication_enabled/,
    },
  ],
  CKV_AWS_293: [
    {
      name: "deletion protection off",
      change: (tf) => {
        R(tf).aws_db_instance.db.deletion_protection = false;
      },
      resource: "aws_db_instance.db",
      message: /deletion_protection/,
    },
  ],
  CKV_AWS_133: [
    {
      name: "one day of backups",
      change: (tf) => {
        R(tf).aws_db_instance.db.backup_retention_period = 1;
      },
      resource: "aws_db_instance.db",
      message: /= 1, must be more than 1/,
    },
  ],
  CKV_AWS_129: [
    {
      name: "no log exports",
      change: (tf) => {
        R(tf).aws_db_instance.db.enabled_cloudwatch_logs_exports = [];
      },
      resource: "aws_db_instance.db",
      message: /empty/,
    },
  ],
  CKV_AWS_211: [
    {
      name: "expired CA",
      change: (tf) => {
        R(tf).aws_db_instance.db.ca_cert_identifier = "rds-ca-2019";
      },
      resource: "aws_db_instance.db",
      message: /rds-ca-2019/,
    },
  ],
  CKV2_AWS_69: [
    {
      name: "force_ssl = 0",
      change: (tf) => {
        R(tf).aws_db_parameter_group.pg.parameter = [{ name: "rds.force_ssl", value: "0" }];
      },
      resource: "aws_db_instance.db",
      message: /does not set rds\.force_ssl/,
    },
    {
      name: "default parameter group",
      change: (tf) => {
        delete R(tf).aws_db_instance.db.parameter_group_name;
      },
      resource: "aws_db_instance.db",
      message: /no parameter group/,
    },
  ],
  CKV_AWS_226: [
    {
      name: "minor upgrades off",
      change: (tf) => {
        R(tf).aws_db_instance.db.auto_minor_version_upgrade = false;
      },
      resource: "aws_db_instance.db",
      message: /auto_minor_version_upgrade/,
    },
  ],
  "DBT-DB-1": [
    {
      name: "literal password",
      change: (tf) => {
        delete R(tf).aws_db_instance.db.manage_master_user_password;
        R(tf).aws_db_instance.db.password = "hunter2hunter2";
      },
      resource: "aws_db_instance.db",
      message: /password is set/,
    },
    {
      name: "not managed",
      change: (tf) => {
        R(tf).aws_db_instance.db.manage_master_user_password = false;
      },
      resource: "aws_db_instance.db",
      message: /manage_master_user_password/,
    },
  ],
  CKV_AWS_157: [
    {
      name: "dev database",
      change: () => {},
      resource: "aws_db_instance.db",
      message: /multi_az, enhanced monitoring/,
    },
  ],
  CKV_AWS_79: [
    {
      name: "IMDSv1 allowed",
      change: (tf) => {
        R(tf).aws_instance.jumphost.metadata_options.http_tokens = "optional";
      },
      resource: "aws_instance.jumphost",
      message: /IMDSv1/,
    },
    {
      name: "hop limit 2",
      change: (tf) => {
        R(tf).aws_instance.jumphost.metadata_options.http_put_response_hop_limit = 2;
      },
      resource: "aws_instance.jumphost",
      message: /hop_limit is 2/,
    },
  ],
  CKV_AWS_8: [
    {
      name: "unencrypted root volume",
      change: (tf) => {
        R(tf).aws_instance.jumphost.root_block_device.encrypted = false;
      },
      resource: "aws_instance.jumphost",
      message: /root volume/,
    },
  ],
  CKV_AWS_46: [
    {
      name: "access key in user data",
      change: (tf) => {
        R(tf).aws_instance.jumphost.user_data =
          "#!/bin/bash\nexport AWS_ACCESS_KEY_ID=AKIAIOSFODNN7EXAMPLE\n";
      },
      resource: "aws_instance.jumphost",
      message: /access key id/,
    },
    {
      name: "password in base64 user data",
      change: (tf) => {
        R(tf).aws_instance.jumphost.user_data_base64 = Buffer.from("PGPASSWORD=s3cretvalue psql").toString(
          "base64",
        );
      },
      resource: "aws_instance.jumphost",
      message: /password or token/,
    },
  ],
  CKV2_AWS_41: [
    {
      name: "no instance profile",
      change: (tf) => {
        delete R(tf).aws_instance.jumphost.iam_instance_profile;
      },
      resource: "aws_instance.jumphost",
      message: /iam_instance_profile/,
    },
  ],
  CKV_AWS_386: [
    {
      name: "AMI from an account-owned parameter",
      change: (tf) => {
        tf.data.aws_ssm_parameter.al2023.name = "/platform/golden-ami";
      },
      resource: "aws_instance.jumphost",
      message: /can overwrite/,
    },
    {
      name: "data.aws_ami without owners",
      change: (tf) => {
        tf.data.aws_ami = {
          al2023: { most_recent: true, filter: [{ name: "name", values: ["al2023-ami-*"] }] },
        };
        R(tf).aws_instance.jumphost.ami = "${data.aws_ami.al2023.id}";
      },
      resource: "data.aws_ami.al2023",
      message: /owners is empty/,
    },
  ],
  "DBT-HOST-1": [
    {
      name: "key pair",
      change: (tf) => {
        R(tf).aws_instance.jumphost.key_name = "ops";
      },
      resource: "aws_instance.jumphost",
      message: /key_name = ops/,
    },
  ],
  "DBT-HOST-2": [
    {
      name: "jump host egress to anywhere",
      change: (tf) => {
        R(tf).aws_security_group.jumphost.egress = [
          { protocol: "-1", from_port: 0, to_port: 0, cidr_blocks: ["0.0.0.0/0"] },
        ];
      },
      resource: "aws_security_group.jumphost",
      message: /egress all traffic to 0\.0\.0\.0\/0/,
    },
    {
      name: "database port towards the endpoint group",
      change: (tf) => {
        R(tf).aws_vpc_security_group_egress_rule.jumphost_to_database.referenced_security_group_id =
          "${aws_security_group.endpoints.id}";
      },
      resource: "aws_vpc_security_group_egress_rule.jumphost_to_database",
      message: /tcp\/5432 to aws_security_group\.endpoints/,
    },
    {
      name: "a literal group on a literal port (not the database's)",
      change: (tf) => {
        R(tf).aws_vpc_security_group_egress_rule.jumphost_to_database.referenced_security_group_id =
          "sg-0123456789abcdef0";
      },
      resource: "aws_vpc_security_group_egress_rule.jumphost_to_database",
      message: /tcp\/5432 to sg-0123456789abcdef0/,
    },
    {
      name: "the looked-up database port towards the endpoint group",
      change: (tf) => {
        Object.assign(R(tf).aws_vpc_security_group_egress_rule.jumphost_to_endpoints, {
          from_port: "${data.aws_db_instance.existing.port}",
          to_port: "${data.aws_db_instance.existing.port}",
        });
      },
      resource: "aws_vpc_security_group_egress_rule.jumphost_to_endpoints",
      message: /tcp\/\$\{data\.aws_db_instance\.existing\.port\} to aws_security_group\.endpoints/,
    },
    {
      name: "another group with all egress to the internet (CKV_AWS_382)",
      change: (tf) => {
        R(tf).aws_security_group.database.egress = [
          { protocol: "-1", from_port: 0, to_port: 0, ipv6_cidr_blocks: ["::/0"] },
        ];
      },
      resource: "aws_security_group.database",
      message: /all egress to the internet/,
    },
  ],
  CKV_AWS_334: [
    {
      name: "privileged container",
      change: (tf) => {
        ecsJumpHost(tf);
        const defs = JSON.parse(R(tf).aws_ecs_task_definition.jump.container_definitions);
        defs[0].privileged = true;
        R(tf).aws_ecs_task_definition.jump.container_definitions = JSON.stringify(defs);
      },
      resource: "aws_ecs_task_definition.jump",
      message: /container agent is privileged/,
    },
    {
      name: "host PID and shared roles",
      change: (tf) => {
        ecsJumpHost(tf);
        Object.assign(R(tf).aws_ecs_task_definition.jump, {
          pid_mode: "host",
          execution_role_arn: "${aws_iam_role.jumphost.arn}",
        });
      },
      resource: "aws_ecs_task_definition.jump",
      message: /pid_mode = "host"; execution_role_arn equals task_role_arn/,
    },
  ],
  CKV2_AWS_11: [
    {
      name: "no flow log",
      change: (tf) => {
        delete R(tf).aws_flow_log;
      },
      resource: "aws_vpc.vpc",
      message: /no aws_flow_log/,
    },
  ],
  CKV_AWS_148: [
    {
      name: "default VPC looked up",
      change: (tf) => {
        tf.data.aws_vpc = { default: { default: true } };
      },
      resource: "data.aws_vpc.default",
      message: /default VPC/,
    },
    {
      name: "default VPC managed",
      change: (tf) => {
        R(tf).aws_default_vpc = { default: {} };
      },
      resource: "aws_default_vpc.default",
      message: /default VPC/,
    },
  ],
  "DBT-NET-1": [
    {
      name: "ssmmessages endpoint missing",
      change: (tf) => {
        delete R(tf).aws_vpc_endpoint.ssmmessages;
      },
      resource: undefined,
      message: /no interface endpoint for ssmmessages/,
    },
    {
      name: "private DNS off",
      change: (tf) => {
        R(tf).aws_vpc_endpoint.ssm.private_dns_enabled = false;
      },
      resource: "aws_vpc_endpoint.ssm",
      message: /private_dns_enabled/,
    },
    {
      name: "kms endpoint missing while the session preferences use KMS",
      change: (tf) => {
        delete R(tf).aws_vpc_endpoint.kms;
      },
      resource: undefined,
      message: /no interface endpoint for kms/,
    },
    {
      name: "endpoint in a subnet routed to an internet gateway",
      change: (tf) => {
        addPublicSubnet(tf);
        R(tf).aws_vpc_endpoint.ssm.subnet_ids = ["${aws_subnet.public.id}"];
      },
      resource: "aws_vpc_endpoint.ssm",
      message: /\$\{aws_subnet\.public\.id\} are not private subnets/,
    },
    {
      name: "endpoint in a subnet given by id inside the stack's own VPC",
      change: (tf) => {
        R(tf).aws_vpc_endpoint.ec2messages.subnet_ids = ["subnet-0123"];
      },
      resource: "aws_vpc_endpoint.ec2messages",
      message: /private subnets/,
    },
  ],
  CKV_AWS_112: [
    {
      name: "no kmsKeyId",
      change: (tf) => sessionInputs(tf, (i) => delete i.kmsKeyId),
      resource: "aws_ssm_document.session_preferences",
      message: /kmsKeyId is not set/,
    },
    {
      name: "content built with jsonencode",
      change: (tf) => {
        R(tf).aws_ssm_document.session_preferences.content = '${jsonencode({"inputs" = {"kmsKeyId" = "x"}})}';
      },
      resource: "aws_ssm_document.session_preferences",
      message: /JSON\.stringify/,
    },
  ],
  CKV_AWS_113: [
    {
      name: "S3 logs unencrypted",
      change: (tf) => sessionInputs(tf, (i) => (i.s3EncryptionEnabled = false)),
      resource: "aws_ssm_document.session_preferences",
      message: /s3EncryptionEnabled/,
    },
    {
      name: "no logging",
      change: (tf) =>
        sessionInputs(tf, (i) => {
          delete i.s3BucketName;
          delete i.cloudWatchLogGroupName;
        }),
      resource: "aws_ssm_document.session_preferences",
      message: /neither to S3 nor to CloudWatch/,
    },
  ],
  CKV_AWS_303: [
    {
      name: "shared with all accounts",
      change: (tf) => {
        R(tf).aws_ssm_document.session_preferences.permissions = { type: "Share", account_ids: "All" };
      },
      resource: "aws_ssm_document.session_preferences",
      message: /all AWS accounts/,
    },
  ],
  CKV_AWS_7: [
    {
      name: "rotation off",
      change: (tf) => {
        R(tf).aws_kms_key.key.enable_key_rotation = false;
      },
      resource: "aws_kms_key.key",
      message: /enable_key_rotation/,
    },
  ],
  CKV2_AWS_64: [
    {
      name: "no key policy",
      change: (tf) => {
        delete R(tf).aws_kms_key.key.policy;
      },
      resource: "aws_kms_key.key",
      message: /no explicit key policy/,
    },
    {
      name: "open principal",
      change: (tf) => {
        R(tf).aws_kms_key.key.policy = JSON.stringify({
          Statement: [{ Effect: "Allow", Principal: "*", Action: "kms:Decrypt", Resource: "*" }],
        });
      },
      resource: "aws_kms_key.key",
      message: /Principal \* without conditions/,
    },
  ],
  CKV_AWS_158: [
    {
      name: "unencrypted log group",
      change: (tf) => {
        delete R(tf).aws_cloudwatch_log_group.sessions.kms_key_id;
      },
      resource: "aws_cloudwatch_log_group.sessions",
      message: /kms_key_id/,
    },
  ],
  CKV_AWS_66: [
    {
      name: "kept forever",
      change: (tf) => {
        delete R(tf).aws_cloudwatch_log_group.flow.retention_in_days;
      },
      resource: "aws_cloudwatch_log_group.flow",
      message: /forever/,
    },
  ],
  CKV_AWS_53: [
    {
      name: "public policies allowed",
      change: (tf) => {
        R(tf).aws_s3_bucket_public_access_block.session_logs.block_public_policy = false;
      },
      resource: "aws_s3_bucket_public_access_block.session_logs",
      message: /block_public_policy/,
    },
    {
      name: "no public access block",
      change: (tf) => {
        delete R(tf).aws_s3_bucket_public_access_block;
      },
      resource: "aws_s3_bucket.session_logs",
      message: /no aws_s3_bucket_public_access_block/,
    },
  ],
  CKV_AWS_145: [
    {
      name: "SSE-S3 instead of KMS",
      change: (tf) => {
        R(tf).aws_s3_bucket_server_side_encryption_configuration.session_logs.rule = [
          { apply_server_side_encryption_by_default: { sse_algorithm: "AES256" } },
        ];
      },
      resource: "aws_s3_bucket.session_logs",
      message: /AES256/,
    },
  ],
  CKV_AWS_379: [
    {
      name: "no bucket policy",
      change: (tf) => {
        delete R(tf).aws_s3_bucket_policy;
      },
      resource: "aws_s3_bucket.session_logs",
      message: /plain-HTTP/,
    },
    {
      name: "policy without the TLS deny",
      change: (tf) => {
        tf.data.aws_iam_policy_document.session_logs_tls_only.statement[0].condition = [];
      },
      resource: "aws_s3_bucket_policy.session_logs",
      message: /aws:SecureTransport/,
    },
  ],
  CKV_AWS_21: [
    {
      name: "versioning suspended",
      change: (tf) => {
        R(tf).aws_s3_bucket_versioning.session_logs.versioning_configuration.status = "Suspended";
      },
      resource: "aws_s3_bucket.session_logs",
      message: /versioning is not enabled/,
    },
  ],
  CKV2_AWS_61: [
    {
      name: "lifecycle without abort",
      change: (tf) => {
        delete R(tf).aws_s3_bucket_lifecycle_configuration.session_logs.rule[0]
          .abort_incomplete_multipart_upload;
      },
      resource: "aws_s3_bucket.session_logs",
      message: /aborts incomplete multipart uploads/,
    },
    {
      name: "ACLs enabled",
      change: (tf) => {
        R(tf).aws_s3_bucket_ownership_controls.session_logs.rule.object_ownership = "ObjectWriter";
      },
      resource: "aws_s3_bucket.session_logs",
      message: /BucketOwnerEnforced/,
    },
  ],
  CKV_AWS_18: [
    {
      name: "session-log bucket",
      change: () => {},
      resource: "aws_s3_bucket.session_logs",
      message: /access logging, replication, object lock/,
    },
  ],
  CKV_AWS_62: [
    {
      name: "admin statement",
      change: (tf) =>
        setEngineerPolicy(tf, (d) => d.Statement.push({ Effect: "Allow", Action: "*", Resource: "*" })),
      resource: "aws_iam_policy.engineer",
      message: /allows \*/,
    },
    {
      name: "policy built with jsonencode",
      change: (tf) => {
        R(tf).aws_iam_policy.engineer.policy = '${jsonencode({"Statement" = []})}';
      },
      resource: "aws_iam_policy.engineer",
      message: /cannot be verified/,
    },
  ],
  CKV_AWS_355: [
    {
      name: "s3:GetObject on *",
      change: (tf) =>
        jumpRolePolicy(tf, [
          { Effect: "Allow", Action: ["s3:GetObject", "ssm:UpdateInstanceInformation"], Resource: "*" },
        ]),
      resource: "aws_iam_role.jumphost",
      message: /allows s3:GetObject on \*/,
    },
  ],
  CKV_AWS_286: [
    {
      name: "iam:PassRole on *",
      change: (tf) =>
        setEngineerPolicy(tf, (d) =>
          d.Statement.push({ Effect: "Allow", Action: "iam:PassRole", Resource: "*" }),
        ),
      resource: "aws_iam_policy.engineer",
      message: /iam:PassRole on \* \(privilege escalation\)/,
    },
    {
      name: "ecr:GetAuthorizationToken on * (credential exposure; ECS images in public registries do not need it)",
      change: (tf) =>
        jumpRolePolicy(tf, [{ Effect: "Allow", Action: "ecr:GetAuthorizationToken", Resource: "*" }]),
      resource: "aws_iam_role.jumphost",
      message: /credentials exposure/,
    },
    {
      name: "secretsmanager:* on *",
      change: (tf) => jumpRolePolicy(tf, [{ Effect: "Allow", Action: "secretsmanager:*", Resource: "*" }]),
      resource: "aws_iam_role.jumphost",
      message: /secretsmanager:GetSecretValue on \* \(data exfiltration\)/,
    },
  ],
  CKV_AWS_60: [
    {
      name: "anyone may assume the role",
      change: (tf) => {
        R(tf).aws_iam_role.jumphost.assume_role_policy = JSON.stringify({
          Statement: [{ Effect: "Allow", Principal: { AWS: "*" }, Action: "sts:AssumeRole" }],
        });
      },
      resource: "aws_iam_role.jumphost",
      message: /anyone/,
    },
    {
      name: "whole account without conditions",
      change: (tf) => {
        R(tf).aws_iam_role.jumphost.assume_role_policy = JSON.stringify({
          Statement: [
            {
              Effect: "Allow",
              Principal: { AWS: "arn:aws:iam::123456789012:root" },
              Action: "sts:AssumeRole",
            },
          ],
        });
      },
      resource: "aws_iam_role.jumphost",
      message: /whole account/,
    },
  ],
  "DBT-IAM-1": [
    {
      name: "no document access check",
      change: (tf) => setEngineerPolicy(tf, (d) => delete d.Statement[0].Condition),
      resource: "aws_iam_policy.engineer",
      message: /SessionDocumentAccessCheck/,
    },
    {
      name: "any instance",
      change: (tf) =>
        setEngineerPolicy(tf, (d) => (d.Statement[0].Resource[0] = "arn:aws:ec2:*:*:instance/*")),
      resource: "aws_iam_policy.engineer",
      message: /other than the jump host.*instance\/\*/,
    },
    {
      name: "shell document instead of port forwarding",
      change: (tf) =>
        setEngineerPolicy(
          tf,
          (d) => (d.Statement[0].Resource[1] = "arn:aws:ssm:eu-west-1::document/AWS-StartInteractiveCommand"),
        ),
      resource: "aws_iam_policy.engineer",
      message: /AWS-StartInteractiveCommand/,
    },
    {
      name: "the tasks of every ECS cluster",
      change: (tf) =>
        setEngineerPolicy(
          tf,
          (d) => (d.Statement[0].Resource[0] = "arn:aws:ecs:eu-west-1:123456789012:task/*/*"),
        ),
      resource: "aws_iam_policy.engineer",
      message: /task\/\*\/\*/,
    },
    {
      name: "ssm:* on *",
      change: (tf) => jumpRolePolicy(tf, [{ Effect: "Allow", Action: "ssm:*", Resource: "*" }]),
      resource: "aws_iam_role.jumphost",
      message: /other than the jump host/,
    },
  ],
  "DBT-IAM-2": [
    {
      name: "terminate anyone's session",
      change: (tf) => setEngineerPolicy(tf, (d) => (d.Statement[1].Resource = "arn:aws:ssm:*:*:session/*")),
      resource: "aws_iam_policy.engineer",
      message: /session\/\*/,
    },
    {
      name: "unescaped policy variable",
      change: (tf) =>
        setEngineerPolicy(tf, (d) => (d.Statement[1].Resource = "arn:aws:ssm:*:*:session/${aws:userid}-*")),
      resource: "aws_iam_policy.engineer",
      message: /not escaped/,
    },
  ],
  "DBT-IAM-3": [
    {
      name: "any user",
      change: (tf) =>
        setEngineerPolicy(
          tf,
          (d) =>
            (d.Statement[3].Resource =
              "arn:aws:rds-db:eu-west-1:123456789012:dbuser:${aws_db_instance.db.resource_id}/*"),
        ),
      resource: "aws_iam_policy.engineer",
      message: /does not name a database user/,
    },
    {
      name: "any database",
      change: (tf) =>
        setEngineerPolicy(
          tf,
          (d) => (d.Statement[3].Resource = "arn:aws:rds-db:eu-west-1:123456789012:dbuser:*/alice"),
        ),
      resource: "aws_iam_policy.engineer",
      message: /resource id/,
    },
  ],
  "AwsSolutions-IAM4": [
    {
      name: "AmazonSSMManagedInstanceCore attached",
      change: (tf) => {
        R(tf).aws_iam_role_policy_attachment = {
          core: {
            role: "${aws_iam_role.jumphost.name}",
            policy_arn: "arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore",
          },
        };
      },
      resource: "aws_iam_role.jumphost",
      message: /AmazonSSMManagedInstanceCore/,
    },
  ],
};

/** Rules the secure stack cannot show as compliant on its own (noise rules, the ECS variant), and edge cases. */
const COMPLIANT_VARIANTS: Record<string, CompliantVariant[]> = {
  CKV_AWS_355: [
    {
      name: "ecr:GetAuthorizationToken has no resource-level permission",
      change: (tf) =>
        jumpRolePolicy(tf, [{ Effect: "Allow", Action: "ecr:GetAuthorizationToken", Resource: "*" }]),
    },
  ],
  "DBT-INGRESS-1": [{ name: "ECS jump host without ingress", change: ecsJumpHost }],
  "DBT-INGRESS-6": [
    {
      name: "a public subnet (routed to an internet gateway) needs no admin-port deny",
      change: addPublicSubnet,
    },
  ],
  "DBT-INGRESS-2": [
    {
      name: "a CIDR inside the VPC",
      change: (tf) => {
        R(tf).aws_security_group.endpoints.ingress = [
          { protocol: "tcp", from_port: 443, to_port: 443, cidr_blocks: ["10.0.1.0/24"] },
        ];
      },
    },
    {
      name: "a reference to the VPC CIDR",
      change: (tf) => {
        R(tf).aws_security_group.endpoints.ingress = [
          { protocol: "tcp", from_port: 443, to_port: 443, cidr_blocks: ["${aws_vpc.vpc.cidr_block}"] },
        ];
      },
    },
  ],
  "DBT-INGRESS-3": [
    {
      name: "legacy aws_security_group_rule from the jump host",
      change: (tf) => {
        delete R(tf).aws_vpc_security_group_ingress_rule.database_from_jumphost;
        R(tf).aws_security_group_rule = {
          db: {
            type: "ingress",
            security_group_id: "${aws_security_group.database.id}",
            source_security_group_id: JUMP_SG,
            protocol: "tcp",
            from_port: 5432,
            to_port: 5432,
          },
        };
      },
    },
  ],
  CKV_AWS_24: [
    {
      name: "0.0.0.0/0 on an unwatched port (DBT-INGRESS-2 still fails)",
      change: (tf) => {
        R(tf).aws_security_group.endpoints.ingress = [
          { protocol: "tcp", from_port: 8443, to_port: 8443, cidr_blocks: ["0.0.0.0/0"] },
        ];
      },
    },
  ],
  CKV2_AWS_69: [
    {
      name: "MySQL with require_secure_transport",
      change: (tf) => {
        Object.assign(R(tf).aws_db_instance.db, { engine: "mysql", port: 3306 });
        R(tf).aws_db_parameter_group.pg = {
          family: "mysql8.0",
          parameter: [{ name: "require_secure_transport", value: "ON" }],
        };
      },
    },
  ],
  CKV_AWS_157: [
    {
      name: "production profile",
      change: (tf) => {
        Object.assign(R(tf).aws_db_instance.db, {
          multi_az: true,
          monitoring_interval: 60,
          monitoring_role_arn: "${aws_iam_role.rds_monitoring.arn}",
          performance_insights_enabled: true,
          performance_insights_kms_key_id: "${aws_kms_key.key.arn}",
        });
      },
    },
  ],
  CKV_AWS_386: [
    {
      name: "data.aws_ami with owners",
      change: (tf) => {
        tf.data.aws_ami = { al2023: { most_recent: true, owners: ["amazon"] } };
        R(tf).aws_instance.jumphost.ami = "${data.aws_ami.al2023.id}";
      },
    },
  ],
  CKV_AWS_334: [{ name: "hardened ECS task", change: ecsJumpHost }],
  "DBT-HOST-2": [
    { name: "ECS jump host with the same egress", change: ecsJumpHost },
    {
      name: "existing database: its group id and the looked-up port",
      change: (tf) => {
        tf.data.aws_db_instance = { existing: { db_instance_identifier: "prod-db" } };
        Object.assign(R(tf).aws_vpc_security_group_egress_rule.jumphost_to_database, {
          referenced_security_group_id: "sg-0123456789abcdef0",
          from_port: "${data.aws_db_instance.existing.port}",
          to_port: "${data.aws_db_instance.existing.port}",
        });
      },
    },
  ],
  "DBT-NET-1": [
    { name: "a brought-in VPC: endpoints in subnets given by id", change: broughtInVpc },
    {
      name: "no kms/logs endpoints needed when preferences use neither",
      change: (tf) => {
        sessionInputs(tf, (i) => {
          delete i.kmsKeyId;
          delete i.cloudWatchLogGroupName;
        });
        delete R(tf).aws_vpc_endpoint.kms;
        delete R(tf).aws_vpc_endpoint.logs;
      },
    },
  ],
  CKV_AWS_379: [
    {
      name: "JSON-string bucket policy",
      change: (tf) => {
        R(tf).aws_s3_bucket_policy.session_logs.policy = JSON.stringify({
          Statement: [
            {
              Effect: "Deny",
              Principal: "*",
              Action: "s3:*",
              Resource: ["${aws_s3_bucket.session_logs.arn}/*"],
              Condition: { Bool: { "aws:SecureTransport": false } },
            },
          ],
        });
      },
    },
  ],
  CKV_AWS_18: [
    {
      name: "logging, replication and object lock",
      change: (tf) => {
        R(tf).aws_s3_bucket.session_logs.object_lock_enabled = true;
        R(tf).aws_s3_bucket_logging = {
          l: { bucket: "${aws_s3_bucket.session_logs.id}", target_bucket: "logs" },
        };
        R(tf).aws_s3_bucket_replication_configuration = {
          r: { bucket: "${aws_s3_bucket.session_logs.id}", role: "x", rule: [] },
        };
      },
    },
  ],
  CKV_AWS_60: [
    {
      name: "whole account with a condition",
      change: (tf) => {
        R(tf).aws_iam_role.jumphost.assume_role_policy = JSON.stringify({
          Statement: [
            {
              Effect: "Allow",
              Principal: { AWS: "arn:aws:iam::123456789012:root" },
              Action: "sts:AssumeRole",
              Condition: { StringEquals: { "sts:ExternalId": "dbtunnel" } },
            },
          ],
        });
      },
    },
  ],
  "DBT-IAM-1": [
    {
      name: "ECS jump host: the tasks of a cluster named literally",
      change: (tf) =>
        setEngineerPolicy(
          tf,
          (d) => (d.Statement[0].Resource[0] = "arn:aws:ecs:eu-west-1:123456789012:task/dbtunnel/*"),
        ),
    },
    {
      name: "aws_iam_policy_document form",
      change: (tf) => {
        tf.data.aws_iam_policy_document.engineer = {
          statement: [
            {
              actions: ["ssm:StartSession"],
              resources: [
                "${aws_instance.jumphost.arn}",
                "arn:aws:ssm:${data.aws_region.current.name}::document/AWS-StartPortForwardingSessionToRemoteHost",
              ],
              condition: [
                { test: "BoolIfExists", variable: "ssm:SessionDocumentAccessCheck", values: ["true"] },
              ],
            },
          ],
        };
        R(tf).aws_iam_policy.engineer.policy = "${data.aws_iam_policy_document.engineer.json}";
      },
    },
  ],
  CKV_AWS_46: [
    {
      name: "secrets fetched at run time",
      change: (tf) => {
        R(tf).aws_instance.jumphost.user_data =
          "#!/bin/bash\nTOKEN=$(curl -sX PUT http://169.254.169.254/latest/api/token)\nPASSWORD=`aws secretsmanager get-secret-value`\n";
      },
    },
  ],
  "DBT-IAM-2": [
    {
      name: "&{aws:userid} in aws_iam_policy_document",
      change: (tf) => {
        tf.data.aws_iam_policy_document.engineer = {
          statement: [
            {
              actions: ["ssm:TerminateSession", "ssm:ResumeSession"],
              resources: ["arn:aws:ssm:*:*:session/&{aws:userid}-*"],
            },
          ],
        };
        R(tf).aws_iam_policy.engineer.policy = "${data.aws_iam_policy_document.engineer.json}";
      },
    },
  ],
};

describe("every rule on the secure stack and on the stack with its property broken", () => {
  for (const rule of ALL_RULES) {
    describe(`${rule.id} ${rule.description}`, () => {
      const failing = FAILING[rule.id] ?? [];
      for (const c of failing) {
        test(`fails: ${c.name}`, () => {
          expectViolation(rule.id, secureStackWith(c.change), c.resource, c.message);
        });
      }
      const baseline = rule.evaluate(secureStack());
      if (
        baseline.some((r) => r.status === "compliant") &&
        !baseline.some((r) => r.status === "non-compliant")
      ) {
        test("passes: the secure stack", () => {
          expectCompliant(rule.id, secureStack());
        });
      }
      for (const v of COMPLIANT_VARIANTS[rule.id] ?? []) {
        test(`passes: ${v.name}`, () => {
          expectCompliant(rule.id, secureStackWith(v.change));
        });
      }
    });
  }
});

describe("rule catalogue", () => {
  test("every rule has a failing case and a passing case", () => {
    const incomplete = ALL_RULES.filter((rule) => {
      const baseline = rule.evaluate(secureStack());
      const secureStackPasses =
        baseline.every((r) => r.status !== "non-compliant") && baseline.some((r) => r.status === "compliant");
      const passing = secureStackPasses || (COMPLIANT_VARIANTS[rule.id]?.length ?? 0) > 0;
      return !passing || (FAILING[rule.id]?.length ?? 0) === 0;
    }).map((r) => r.id);
    expect(incomplete).toEqual([]);
  });

  test("no test case names a rule that does not exist", () => {
    const ids = new Set(ALL_RULES.map((r) => r.id));
    expect(
      [...Object.keys(FAILING), ...Object.keys(COMPLIANT_VARIANTS)].filter((id) => !ids.has(id)),
    ).toEqual([]);
  });

  test("ids and aliases are unique across rules", () => {
    const all = ALL_RULES.flatMap((r) => [r.id, ...r.aliases]);
    expect(all.length).toBe(new Set(all).size);
  });

  test("every rule has a one-line description and fix", () => {
    for (const r of ALL_RULES) {
      expect(r.description).not.toContain("\n");
      expect(r.fix).not.toContain("\n");
      expect(r.fix.length).toBeGreaterThan(20);
    }
  });

  test("a rule with nothing to check answers one not-applicable result", () => {
    for (const r of ALL_RULES) {
      const results = r.evaluate({ resource: {} });
      expect(results).toHaveLength(1);
      expect(results[0]?.status).toBe("not-applicable");
      expect(results[0]?.ruleId).toBe(r.id);
    }
  });
});

describe("policy/README.md", () => {
  test("lists every rule with its file", async () => {
    const readme = await Bun.file(new URL("../README.md", import.meta.url)).text();
    // Biome pads the table cells, so match the id cell loosely.
    const listed = new Set([...readme.matchAll(/^\| `([^`]+)`\s+\|/gm)].map((m) => m[1]));
    const missing = ALL_RULES.filter((r) => !listed.has(r.id)).map((r) => r.id);
    expect(missing).toEqual([]);
  });
});
