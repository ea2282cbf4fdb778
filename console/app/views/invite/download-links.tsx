import { platformLabel } from '../../format/labels.ts';
import { CopyButton } from '../common/copy-button.tsx';
import { IconDownload } from '../icons.tsx';

/** The platforms offered first, in this order; any others follow. */
const PREFERRED = ['win-x64', 'linux-x64'];

/** Platforms of `downloads` in the order to show them. */
export function orderedPlatforms(downloads: Record<string, string>): string[] {
  const platforms = Object.keys(downloads);
  return [
    ...PREFERRED.filter((platform) => platforms.includes(platform)),
    ...platforms.filter((platform) => !PREFERRED.includes(platform)).sort(),
  ];
}

/** The agent download links of one session (`download-<platform>`), each with Copy link. */
export function DownloadLinks({ downloads }: { downloads: Record<string, string> }) {
  const platforms = orderedPlatforms(downloads);
  if (platforms.length === 0) return null;
  return (
    <div class="downloads">
      <div class="downloads__title">Download link</div>
      <ul class="downloads__list">
        {platforms.map((platform) => {
          const url = downloads[platform] ?? '';
          return (
            <li class="downloads__item" key={platform}>
              <IconDownload size={16} class="downloads__icon" />
              <div class="downloads__main">
                <div class="downloads__platform">{platformLabel(platform)}</div>
                <a
                  class="downloads__url"
                  href={url}
                  data-testid={`download-${platform}`}
                  rel="noreferrer"
                  title={url}
                >
                  {url}
                </a>
              </div>
              <CopyButton
                text={url}
                label="Copy link"
                class="btn--small"
                testId={`copy-download-${platform}`}
              />
            </li>
          );
        })}
      </ul>
    </div>
  );
}
