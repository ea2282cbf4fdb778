CREATE TABLE `devices` (
	`id` text PRIMARY KEY NOT NULL,
	`organisation_id` text NOT NULL,
	`device_group_id` text NOT NULL,
	`public_jwk` text NOT NULL,
	`hostname` text NOT NULL,
	`os` text,
	`console_user` text,
	`agent_version` text,
	`created_at` integer NOT NULL,
	`last_seen_at` integer,
	`connected_node` text,
	`removed_at` integer,
	`removal` text,
	FOREIGN KEY (`organisation_id`) REFERENCES `organisations`(`id`) ON UPDATE no action ON DELETE no action,
	FOREIGN KEY (`device_group_id`) REFERENCES `device_groups`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE INDEX `devices_organisation_idx` ON `devices` (`organisation_id`,`created_at`);--> statement-breakpoint
CREATE INDEX `devices_group_idx` ON `devices` (`device_group_id`);