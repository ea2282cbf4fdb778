CREATE TABLE `device_groups` (
	`id` text PRIMARY KEY NOT NULL,
	`organisation_id` text NOT NULL,
	`name` text NOT NULL,
	`policy` text NOT NULL,
	`registration_key_hash` text,
	`is_default` integer DEFAULT false NOT NULL,
	`created_at` integer NOT NULL,
	FOREIGN KEY (`organisation_id`) REFERENCES `organisations`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE UNIQUE INDEX `device_groups_registration_key_hash_unique` ON `device_groups` (`registration_key_hash`);--> statement-breakpoint
CREATE TABLE `idempotency_keys` (
	`key` text PRIMARY KEY NOT NULL,
	`principal` text NOT NULL,
	`request_hash` text NOT NULL,
	`status` integer NOT NULL,
	`body` text NOT NULL,
	`created_at` integer NOT NULL
);
--> statement-breakpoint
ALTER TABLE `operators` ADD `totp_secret` text;--> statement-breakpoint
ALTER TABLE `operators` ADD `totp_enabled_at` integer;--> statement-breakpoint
ALTER TABLE `sessions` ADD `organisation_id` text REFERENCES organisations(id);--> statement-breakpoint
ALTER TABLE `sessions` ADD `device_group_id` text REFERENCES device_groups(id);--> statement-breakpoint
ALTER TABLE `sessions` ADD `policy` text;--> statement-breakpoint
ALTER TABLE `sessions` ADD `initiator` text DEFAULT 'agent' NOT NULL;--> statement-breakpoint
ALTER TABLE `sessions` ADD `created_by_id` text;--> statement-breakpoint
ALTER TABLE `sessions` ADD `agent_connected_at` integer;