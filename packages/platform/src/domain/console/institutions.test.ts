import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseInstitutionForm, type InstitutionForm } from './institutions.js';

const form = (over: Partial<InstitutionForm>): InstitutionForm => ({
  orgId: 'H35010200001',
  orgName: '福州市第一医院',
  region: '',
  endpointUrl: '',
  notifyHosts: '',
  paymentChannels: '',
  ports: '',
  ...over,
});

describe('institution form: ports the platform may call', () => {
  it('takes a list of ports, and the endpoint URL must use one of them (443 and 80 when none is given)', () => {
    assert.deepEqual(parseInstitutionForm(form({ ports: '443, 8443，8443' }), true).input?.ports, [443, 8443]);
    assert.deepEqual(parseInstitutionForm(form({ endpointUrl: 'https://his.example.org/api' }), true).input?.ports, []);
    assert.match(
      parseInstitutionForm(form({ endpointUrl: 'https://his.example.org:8443/api' }), true).errors.ports ?? '',
      /端口 8443 不在登记的端口（443、80）中/,
    );
    assert.deepEqual(
      parseInstitutionForm(form({ endpointUrl: 'http://10.1.2.3:8080', ports: '8080' }), true).input?.endpointUrl,
      'http://10.1.2.3:8080',
    );
    for (const bad of ['0', '65536', 'http', '443;80', '-1']) {
      assert.match(parseInstitutionForm(form({ ports: bad }), true).errors.ports ?? '', /端口为 1 到 65535/, bad);
    }
  });
});
