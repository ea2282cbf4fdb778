ALTER TABLE `sessions` ADD `device_id` text;--> statement-breakpoint
ALTER TABLE `sessions` ADD `access` text;